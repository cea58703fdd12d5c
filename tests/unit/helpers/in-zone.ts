/**
 * Runs code of the compiled modules (dist/, built by make test) in a child node process whose
 * machine time zone is `zone`. Node reads TZ for the whole process, and jest's process.env is a
 * copy, so a test that the code does not depend on the machine's zone has to run it elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));

/**
 * `body` is the text of an async function body that may call `load(path)` (a module of dist/,
 * e.g. 'taps/mixpanel/time.js') and returns a JSON value.
 */
export function inMachineZone<T>(zone: string, body: string): T {
  const script = `
    const load = (path) => import(${JSON.stringify(DIST)} + path);
    const result = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify({ zone: Intl.DateTimeFormat().resolvedOptions().timeZone, result }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: zone }, encoding: 'utf8', timeout: 30_000 });
  const { zone: seen, result } = JSON.parse(out) as { zone: string; result: T };
  if (seen !== zone) throw new Error(`the child process runs in ${seen}, not ${zone}`);
  return result;
}
