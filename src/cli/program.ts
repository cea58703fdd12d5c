/** Commander wiring shared by both binaries. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../errors/index.js';
import { configureLogging, parseFormat, parseLevel } from '../log/logger.js';

export interface PackageInfo {
  name: string;
  version: string;
  homepage?: string;
}

let packageInfo: PackageInfo | undefined;

export function readPackageInfo(): PackageInfo {
  packageInfo ??= JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageInfo;
  return packageInfo;
}

export interface CommonOptions {
  config: string[];
  about?: boolean;
  /** --test: check credentials and reachability, then exit. */
  test?: boolean;
  format: 'text' | 'json' | 'markdown';
  logLevel?: string;
  logFormat?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * A program with the options every binary has. Commander's own exits (help, version, bad
 * flags) become thrown errors so that src/cli/run.ts stays the only exit point.
 */
export function createProgram(name: string, description: string, examples: string): Command {
  const program = new Command(name)
    .description(description)
    .version(readPackageInfo().version, '-V, --version', 'print the version and exit')
    .option('-c, --config <file>', 'a JSON config file; repeat to merge (later wins); ENV reads environment variables', collect, [])
    .option('--about', 'print name, version, capabilities and settings, then exit')
    .option('--test', 'check credentials and reachability with the cheapest calls, say what is wrong, then exit (0 ok, 1 not)')
    .addOption(new Option('--format <format>', 'format for --about').choices(['text', 'json', 'markdown']).default('text'))
    .addOption(new Option('--log-level <level>', 'debug, info, warn or error (default: $LOG_LEVEL or info)'))
    .addOption(new Option('--log-format <format>', 'text or json (default: $LOG_FORMAT or text)').choices(['text', 'json']))
    .addHelpText('after', `\n${examples}`)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void process.stdout.write(text),
      writeErr: (text) => void process.stderr.write(text),
      // Errors are reported once, by src/cli/run.ts.
      outputError: () => undefined,
    });
  return program;
}

/** Parses argv; returns false when commander already answered (help, version). */
export function parseArguments(program: Command, argv: string[]): boolean {
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return false;
      throw new UsageError(`${err.message.replace(/^error: /, '')} (run with --help for usage)`);
    }
    throw err;
  }
  const options = program.opts<CommonOptions>();
  const level = options.logLevel === undefined ? undefined : parseLevel(options.logLevel);
  if (options.logLevel !== undefined && level === undefined) {
    throw new UsageError(`--log-level must be debug, info, warn or error (got ${JSON.stringify(options.logLevel)})`);
  }
  configureLogging({ ...(level ? { level } : {}), ...(options.logFormat ? { format: parseFormat(options.logFormat) } : {}) });
  return true;
}
