// Request validation for the router's scope: a strict ajv (no coercion, nothing removed, so an
// unknown field is an error naming it rather than silently dropped — Fastify's default ajv strips
// them), and ajv errors turned into messages a caller can act on.

import { Ajv, type ErrorObject } from 'ajv';
import { RouterError } from '../router-error.js';

export function createStrictAjv(): Ajv {
  return new Ajv({ allErrors: false, removeAdditional: false, coerceTypes: false, useDefaults: false, strict: false });
}

/** `/messages/0/content` → `messages[0].content`. */
function paramOf(instancePath: string, extra?: string): string | null {
  const segments = instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra) segments.push(extra);
  let out = '';
  for (const segment of segments) out += /^\d+$/.test(segment) ? `[${segment}]` : out ? `.${segment}` : segment;
  return out || null;
}

export function validationError(errors: ErrorObject[]): RouterError {
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  if (unknown) {
    const name = String((unknown.params as { additionalProperty?: string }).additionalProperty);
    const param = paramOf(unknown.instancePath, name);
    return RouterError.invalid(`Unrecognized request argument supplied: ${param}`, param, 'unknown_parameter');
  }
  const missing = errors.find((e) => e.keyword === 'required');
  if (missing) {
    const param = paramOf(missing.instancePath, String((missing.params as { missingProperty?: string }).missingProperty));
    return RouterError.invalid(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  }
  const empty = errors.find((e) => e.keyword === 'minItems');
  if (empty) {
    const param = paramOf(empty.instancePath);
    return RouterError.invalid(`'${param}' must not be empty.`, param, 'empty_array');
  }
  const last = errors[errors.length - 1];
  const param = last ? paramOf(last.instancePath) : null;
  const detail = last?.keyword === 'enum' ? `must be one of ${JSON.stringify((last.params as { allowedValues?: unknown[] }).allowedValues)}` : last?.message;
  return RouterError.invalid(`Invalid value for '${param ?? 'body'}': ${detail ?? 'invalid'}.`, param, 'invalid_value');
}
