import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger per function. The service name shows up as `service` in every
 * log line so CloudWatch Logs Insights can filter by function across environments.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({
    serviceName,
    logLevel: (process.env.LOG_LEVEL as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | undefined) ?? 'INFO',
  });
}
