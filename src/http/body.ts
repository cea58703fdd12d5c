/** Reading an error answer's body: only its start is kept (enough for a problem document). */

export const ERROR_BODY_LIMIT = 64 * 1024;

/** The body as text, its first `limit` bytes; a body that breaks while read gives what arrived. */
export async function readLimited(body: AsyncIterable<unknown>, limit = ERROR_BODY_LIMIT): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      if (size < limit) chunks.push(buf.subarray(0, limit - size));
      size += buf.length;
    }
  } catch {
    // a body that breaks while we read an error is still an error: keep what we have
  }
  return Buffer.concat(chunks).toString('utf8');
}
