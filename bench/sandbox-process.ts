/** The sandbox as its own process (bin/mixpanel-mailchimp-sandbox.js --json), as a user would run it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SandboxProcess {
  url: string;
  dataRange: { fromDate: string; toDate: string };
  tap: Record<string, unknown>;
  target: Record<string, unknown>;
  stop(): Promise<void>;
}

export function startSandboxProcess(bin: string, args: string[]): Promise<SandboxProcess> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [bin, '--port', '0', '--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error('the sandbox did not start within 30 s'));
    }, 30_000);
    child.once('exit', (code) => reject(new Error(`the sandbox exited with ${code} before it was ready`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line) as Omit<SandboxProcess, 'stop'>;
      resolve({
        ...info,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
