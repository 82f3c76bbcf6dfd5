#!/usr/bin/env node
import { buildApp, createApp } from '../lib/app/build-app';

/**
 * `cdk synth -c env=dev` (default), `-c env=all`, `-c env=dev -c owner=alice` (sandbox).
 * No lookups and no credentials are needed to synthesize.
 */
const app = createApp();
buildApp(app);
app.synth();
