/**
 * Lambda entry points of the FlinkApplication construct's starter custom resource: start after
 * deploy, wait for RUNNING, stop on delete. The deploy-time packager is a function of its own
 * (../flink-packager), so this bundle carries neither the S3 client nor the ZIP code.
 */
export { onEvent as handler, isComplete as isCompleteHandler } from './starter';
