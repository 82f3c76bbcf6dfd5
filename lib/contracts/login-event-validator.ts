import publishedSchema from '../../jobs/contracts/login-event.schema.json';
import type { JsonSchema } from './json-schema';
import { compileExplainer, compileValidator, type ValueCheck, type ValueExplainer } from './json-schema-validator';

/**
 * The login-event contract as code for hot paths, without zod: compiled from the published schema
 * (jobs/contracts/login-event.schema.json, which the contract test keeps identical to what the zod
 * contract generates). `isLoginEvent` answers valid or not; `explainLoginEvent` names the first
 * problem, for quarantine entries.
 */
const schema = publishedSchema as unknown as JsonSchema;

export const isLoginEvent: ValueCheck = compileValidator(schema);
export const explainLoginEvent: ValueExplainer = compileExplainer(schema);
