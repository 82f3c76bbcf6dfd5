/**
 * Imported first by bin/lakestream.ts, for its side effect: imports run in order, so the Lambda
 * handlers start bundling on a worker thread before aws-cdk-lib loads (see startLambdaBundling).
 */
import { startLambdaBundling } from './lambda-bundles';

startLambdaBundling();
