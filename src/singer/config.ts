/**
 * Configuration shared by both binaries: `--config FILE` repeatable (later files win) and
 * `--config ENV` (variables such as TAP_MIXPANEL_API_SECRET), validated against a JSON Schema.
 * Every problem becomes one readable line naming the key and how to fix it. A key the schema
 * does not know but that is close to one it does (`dryrun`, `Dry_Run`, `date_windows_size`) is
 * a problem like any other: ignoring it would run without the setting the user meant (a dry run
 * that writes). Keys far from every known key are accepted, because orchestrators add their own,
 * and named in one warning line. Scalars given as
 * strings ("30", "true") are converted to their schema type, as configs written for the Python
 * Singer connectors often hold them so. Values of
 * properties marked `"secret": true` are registered with the redactor before anything is logged.
 * A config file may start with a UTF-8 byte order mark; a file that is not JSON is reported by
 * line and column, never by the text around the error.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { DateTime } from 'luxon';
import { ConfigError } from '../errors/index.js';
import { createLogger } from '../log/logger.js';
import { registerSecret } from '../log/redact.js';
import { closestName } from '../util/near-miss.js';
import { JsonSyntaxError, parseJsonText, stripBom } from './json-file.js';
import type { JsonObject, JsonSchema } from './messages.js';

const log = createLogger('config');

export const ENV_SOURCE = 'ENV';

export interface ConfigSpec {
  /** e.g. "TAP_MIXPANEL_" */
  envPrefix: string;
  schema: JsonSchema;
  /** Checks across keys that JSON Schema says badly; each returned string is one problem line. */
  check?: (config: JsonObject) => string[];
}

/** Accepts YYYY-MM-DD and ISO 8601 date-times (without a zone they are read as UTC). */
export function isDateOrDateTime(value: string): boolean {
  return DateTime.fromISO(value, { zone: 'utc' }).isValid && /^\d{4}-\d{2}-\d{2}/.test(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function createValidator(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: true });
  ajv.addFormat('date-time', { type: 'string', validate: isDateOrDateTime });
  ajv.addFormat('date', { type: 'string', validate: (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && isDateOrDateTime(v) });
  ajv.addFormat('uri', { type: 'string', validate: isHttpUrl });
  return ajv;
}

function propertySchema(schema: JsonSchema, key: string): JsonSchema | undefined {
  return schema.properties?.[key];
}

function hintFor(schema: JsonSchema | undefined): string {
  if (!schema) return '';
  const hint = typeof schema['x-hint'] === 'string' ? schema['x-hint'] : schema.description;
  return hint ? `: ${hint}` : '';
}

function show(value: unknown, secret: boolean): string {
  if (secret) return '(hidden)';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const FORMAT_EXAMPLES: Record<string, string> = {
  'date-time': 'a date or date-time such as 2024-01-01 or 2024-01-01T00:00:00Z',
  date: 'a date such as 2024-01-01',
  uri: 'an http(s) URL such as https://example.org',
};

/** One readable line for one schema violation. */
export function describeProblem(error: ErrorObject, schema: JsonSchema, config: JsonObject): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const topKey = path.split('.')[0] ?? '';
  const prop = propertySchema(schema, topKey);
  const secret = prop?.secret === true;
  const got = path === '' ? undefined : path.split('.').reduce<unknown>((v, k) => (v as JsonObject | undefined)?.[k], config);
  const where = `"${path}"`;
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const full = path ? `${path}.${missing}` : missing;
      return `"${full}" is required${hintFor(propertySchema(schema, missing))}`;
    }
    case 'type':
      return `${where} must be ${(error.params as { type: string }).type} (got ${show(got, secret)})${hintFor(prop)}`;
    case 'enum':
      return `${where} must be one of ${((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')} (got ${show(got, secret)})`;
    case 'format': {
      const format = (error.params as { format: string }).format;
      return `${where} must be ${FORMAT_EXAMPLES[format] ?? format} (got ${show(got, secret)})`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${where} ${error.message ?? 'is out of range'} (got ${show(got, secret)})${hintFor(prop)}`;
    case 'pattern':
    case 'minLength':
    case 'maxLength':
      return `${where} is not valid (got ${show(got, secret)})${hintFor(prop)}`;
    default:
      return `${where || 'config'} ${error.message ?? 'is not valid'}${hintFor(prop)}`;
  }
}

function envName(prefix: string, key: string): string {
  return prefix + key.toUpperCase();
}

function firstType(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
}

/**
 * `PREFIX_...` variables that name no key: a near miss of a key's variable is a problem (the
 * setting would silently not apply); others are logged at debug level (Meltano sets variables of
 * its own, such as TAP_MIXPANEL__SELECT, under the same prefix).
 */
function checkEnvNames(spec: ConfigSpec, env: NodeJS.ProcessEnv, problems: string[]): void {
  const keys = Object.keys(spec.schema.properties ?? {});
  const names = new Set(keys.map((key) => envName(spec.envPrefix, key)));
  for (const name of Object.keys(env)) {
    if (!name.startsWith(spec.envPrefix) || names.has(name) || name.startsWith(spec.envPrefix + '_')) continue;
    const key = closestName(name.slice(spec.envPrefix.length).toLowerCase(), keys);
    if (key !== undefined) problems.push(`unknown variable ${name}: did you mean ${envName(spec.envPrefix, key)} (setting "${key}")?`);
    else log.debug('ignoring a variable that names no setting', { name });
  }
}

/** Reads `PREFIX_KEY` variables for the schema's keys, converting each to its schema type. */
export function configFromEnv(spec: ConfigSpec, env: NodeJS.ProcessEnv, problems: string[]): JsonObject {
  checkEnvNames(spec, env, problems);
  const config: JsonObject = {};
  for (const [key, prop] of Object.entries(spec.schema.properties ?? {})) {
    const name = envName(spec.envPrefix, key);
    const text = env[name];
    if (text === undefined) continue;
    const value = text.trim();
    switch (firstType(prop)) {
      case 'integer':
      case 'number': {
        const n = Number(value);
        if (value === '' || Number.isNaN(n)) problems.push(`${name} must be a number (got ${show(text, prop.secret === true)})`);
        else config[key] = n;
        break;
      }
      case 'boolean': {
        const v = value.toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(v)) config[key] = true;
        else if (['false', '0', 'no', 'off', ''].includes(v)) config[key] = false;
        else problems.push(`${name} must be true or false (got ${JSON.stringify(text)})`);
        break;
      }
      case 'array':
        if (value.startsWith('[')) {
          try {
            config[key] = JSON.parse(value);
          } catch {
            problems.push(`${name} must be a JSON array or a comma-separated list`);
          }
        } else {
          config[key] = value === '' ? [] : value.split(',').map((s) => s.trim());
        }
        break;
      case 'object':
        try {
          config[key] = JSON.parse(value);
        } catch {
          problems.push(`${name} must be a JSON object`);
        }
        break;
      default:
        config[key] = text;
    }
  }
  return config;
}

function readConfigFile(path: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT' ? `config file ${path} does not exist` : `cannot read config file ${path} (${code ?? String(err)})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseJsonText(stripBom(text));
  } catch (err) {
    // Line and column only: the text around a syntax error in a config file is often a secret.
    if (err instanceof JsonSyntaxError) throw new ConfigError(`config file ${path} is not valid JSON: ${err.message}`);
    throw err;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object of settings`);
  }
  return parsed as JsonObject;
}

/**
 * Keys the schema does not declare: one problem per near miss of a declared key (and nothing else
 * is checked for it), one warning line naming the others, which are left alone.
 */
export function checkUnknownKeys(config: JsonObject, schema: JsonSchema): { problems: string[]; meant: Set<string> } {
  const known = Object.keys(schema.properties ?? {});
  const problems: string[] = [];
  const meantKeys = new Set<string>();
  const foreign: string[] = [];
  for (const key of Object.keys(config)) {
    if (known.includes(key)) continue;
    const meant = closestName(key, known);
    if (meant === undefined) {
      foreign.push(key);
      continue;
    }
    meantKeys.add(meant);
    // The value was meant for a secret setting: keep it out of every line from here on.
    if (propertySchema(schema, meant)?.secret === true && config[key] !== undefined) registerSecret(String(config[key]));
    const already = config[meant] !== undefined ? ` (both are set: remove "${key}")` : '';
    problems.push(`unknown key "${key}": did you mean "${meant}"?${already}`);
  }
  if (foreign.length > 0) {
    log.warn(`ignoring ${foreign.length === 1 ? 'a key' : 'keys'} that no setting has: ${foreign.map((k) => `"${k}"`).join(', ')} (an orchestrator's own, or a setting misspelt: --about lists the settings)`);
  }
  return { problems, meant: meantKeys };
}

/**
 * Loads, merges and validates configuration. Throws ConfigError with one detail line per
 * problem. Returns the config with schema defaults applied.
 */
export function loadConfig<T>(sources: readonly string[], spec: ConfigSpec, env: NodeJS.ProcessEnv = process.env): T {
  if (sources.length === 0) {
    throw new ConfigError('no configuration given: pass --config FILE (repeatable) or --config ENV');
  }
  const problems: string[] = [];
  let config: JsonObject = {};
  for (const source of sources) {
    const part = source === ENV_SOURCE ? configFromEnv(spec, env, problems) : readConfigFile(source);
    config = { ...config, ...part };
  }
  // Register secrets first: nothing below may print them.
  for (const [key, prop] of Object.entries(spec.schema.properties ?? {})) {
    if (prop.secret === true && config[key] !== undefined) registerSecret(String(config[key]));
  }
  const unknown = checkUnknownKeys(config, spec.schema);
  problems.push(...unknown.problems);
  const validate = createValidator().compile(spec.schema);
  if (!validate(config)) {
    const seen = new Set<string>();
    for (const error of validate.errors ?? []) {
      // "x is required" says nothing new when the unknown key above was meant to be x.
      if (error.keyword === 'required' && unknown.meant.has((error.params as { missingProperty: string }).missingProperty)) continue;
      const line = describeProblem(error, spec.schema, config);
      if (!seen.has(line)) {
        seen.add(line);
        problems.push(line);
      }
    }
  }
  // Coercion may have turned a secret into another form (a number into a string): register it again.
  for (const [key, prop] of Object.entries(spec.schema.properties ?? {})) {
    if (prop.secret === true && config[key] !== undefined) registerSecret(String(config[key]));
  }
  if (spec.check) problems.push(...spec.check(config));
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'})`, {
      details: problems,
    });
  }
  return config as T;
}
