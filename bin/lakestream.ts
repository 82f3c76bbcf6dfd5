#!/usr/bin/env node
// First, for its side effect: the Lambda handlers bundle on a worker thread while the rest loads.
import '../lib/constructs/core/start-lambda-bundling';
import { buildApp, createApp } from '../lib/app/build-app';
import { sourceFingerprint } from '../lib/compliance/source-fingerprint';

/**
 * `cdk synth -c env=dev` (default), `-c env=all`, `-c env=dev -c owner=alice` (sandbox).
 * No lookups and no credentials are needed to synthesize.
 */
const app = createApp();
// Lets template validation skip its engine when these sources were validated before (cdk diff, deploy).
buildApp(app, { sourceFingerprint: sourceFingerprint() });
app.synth();
