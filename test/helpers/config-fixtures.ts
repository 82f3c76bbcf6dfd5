import { loadEnvironment } from '../../lib/config/load-config';

/** A valid dev environment as plain data, to break one field at a time. */
export function validDev(): Record<string, unknown> {
  const { stageName: _s, qualifier: _q, ...config } = loadEnvironment('dev', { processEnv: {} });
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}

/** Sets (or, with undefined, deletes) the value at a dotted path, e.g. `network.cidr`. */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return target;
}
