import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENVIRONMENTS } from '../../lib/config/environments';
import { loadEnvironment, validateEnvironment } from '../../lib/config/load-config';
import { FLINK_SINK_FLUSH_SECONDS, FLINK_WATERMARK_SECONDS, describeBudget, speedLatencyBudget } from '../../lib/config/speed-latency';

const FLINK_JOB = path.join(__dirname, '..', '..', 'jobs', 'flink', 'login_counts');

describe('speed view latency budget', () => {
  it('adds up the stages: one-minute windows and a 30 s trigger give 116 s', () => {
    const budget = speedLatencyBudget({ windowMinutes: 1, streamingTriggerSeconds: 30 });
    expect(budget.stages.map((s) => s.seconds)).toEqual([60, 10, 1, 30, 15, 0]);
    expect(budget.totalSeconds).toBe(116);
    expect(describeBudget(budget)).toMatch(/^60 \(Flink window closes \(flink.windowMinutes\)\) \+ 10 .* = 116 s$/);
  });

  it('uses the Flink job defaults the stack does not override', () => {
    const config = fs.readFileSync(path.join(FLINK_JOB, 'job_config.py'), 'utf8');
    const sql = fs.readFileSync(path.join(FLINK_JOB, 'login_sql.py'), 'utf8');
    expect(config).toContain(`watermark_seconds: int = ${FLINK_WATERMARK_SECONDS}\n`);
    expect(sql).toContain(`("sink.buffer-flush.interval", "${FLINK_SINK_FLUSH_SECONDS}s")`);
  });

  it.each(Object.keys(ENVIRONMENTS))('%s keeps the two-minute promise', (name) => {
    const config = loadEnvironment(name, { processEnv: {} });
    expect(config.serving.maxLatencySeconds).toBeLessThanOrEqual(120);
    expect(
      speedLatencyBudget({ windowMinutes: config.flink.windowMinutes, streamingTriggerSeconds: config.emr.streamingTriggerSeconds }).totalSeconds,
    ).toBeLessThanOrEqual(config.serving.maxLatencySeconds);
  });

  it('an environment that accepts a slower speed view may use longer windows', () => {
    const { stageName: _s, qualifier: _q, ...dev } = loadEnvironment('dev', { processEnv: {} });
    const relaxed = { ...dev, flink: { ...dev.flink, windowMinutes: 5 }, serving: { ...dev.serving, maxLatencySeconds: 600 } };
    expect(validateEnvironment(relaxed, 'dev').flink.windowMinutes).toBe(5);
  });
});
