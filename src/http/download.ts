/**
 * Plain GET downloads on Node's own http and https modules, as a stream: for files such as a
 * Mailchimp batch's results archive (a pre-signed URL, no credentials). The target makes its API
 * calls through the official Mailchimp client, which rides on Node's http too; fetching archives
 * the same way spares it loading undici (about 11 MB of resident memory at start) for one job.
 *
 * One keep-alive agent per protocol; a download gives up when no byte arrives for `timeoutMs`
 * (before the answer's headers or in the middle of its body) with code ETIMEDOUT.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface Download {
  statusCode: number;
  body: IncomingMessage;
}

export class Downloads {
  private readonly http = new HttpAgent({ keepAlive: true, timeout: 30_000 });
  private readonly https = new HttpsAgent({ keepAlive: true, timeout: 30_000 });

  constructor(private readonly timeoutMs: number) {}

  /** Starts a GET; settles when the answer's headers have arrived. */
  get(url: URL, headers: Record<string, string> = {}): Promise<Download> {
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') return Promise.reject(Object.assign(new Error(`cannot download a ${url.protocol} URL`), { code: 'ERR_INVALID_PROTOCOL' }));
    return new Promise<Download>((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(url, { method: 'GET', headers, agent: secure ? this.https : this.http }, (res) => {
        resolve({ statusCode: res.statusCode ?? 0, body: res });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${Math.round(this.timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
