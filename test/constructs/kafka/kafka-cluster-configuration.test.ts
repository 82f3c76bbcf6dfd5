import { buildServerProperties, MSK_CONFIGURABLE_PROPERTIES } from '../../../lib/constructs/kafka/kafka-cluster-configuration';

/** Parses server.properties text back into a map so tests assert values, not formatting. */
function parse(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const separator = line.indexOf('=');
      return [line.slice(0, separator), line.slice(separator + 1)] as [string, string];
    });
  return new Map(entries);
}

describe('buildServerProperties defaults', () => {
  it.each([
    // brokers, replication factor, min in-sync replicas
    [2, '2', '1'],
    [3, '3', '2'],
    [4, '3', '2'],
    [6, '3', '2'],
  ])('%i brokers: replication factor %s, min.insync.replicas %s', (brokerCount, rf, minIsr) => {
    const props = parse(buildServerProperties({ brokerCount }));
    expect(props.get('default.replication.factor')).toBe(rf);
    expect(props.get('min.insync.replicas')).toBe(minIsr);
    expect(props.get('offsets.topic.replication.factor')).toBe(rf);
    expect(props.get('transaction.state.log.replication.factor')).toBe(rf);
    expect(props.get('transaction.state.log.min.isr')).toBe(minIsr);
  });

  it('disables auto topic creation and unclean leader election, and sets partitions and retention', () => {
    const props = parse(buildServerProperties({ brokerCount: 3 }));
    expect(props.get('auto.create.topics.enable')).toBe('false');
    expect(props.get('unclean.leader.election.enable')).toBe('false');
    expect(props.get('num.partitions')).toBe('3');
    expect(props.get('log.retention.hours')).toBe('168');
  });

  it('leaves allow.everyone.if.no.acl.found unset: MSK ignores it under IAM access control', () => {
    expect(buildServerProperties({ brokerCount: 3 })).not.toContain('allow.everyone.if.no.acl.found');
  });

  it('writes only properties an MSK custom configuration accepts, one per line with a final newline', () => {
    const text = buildServerProperties({ brokerCount: 3, overrides: { 'log.retention.hours': 24 } });
    expect(text.endsWith('\n')).toBe(true);
    for (const key of parse(text).keys()) expect(MSK_CONFIGURABLE_PROPERTIES.has(key)).toBe(true);
  });

  it('is deterministic whatever the order of the overrides', () => {
    const a = buildServerProperties({ brokerCount: 3, overrides: { 'num.io.threads': 8, 'compression.type': 'zstd' } });
    const b = buildServerProperties({ brokerCount: 3, overrides: { 'compression.type': 'zstd', 'num.io.threads': 8 } });
    expect(a).toBe(b);
  });
});

describe('buildServerProperties overrides', () => {
  it('replaces a default in place and appends new properties', () => {
    const props = parse(buildServerProperties({ brokerCount: 6, overrides: { 'log.retention.hours': 24, 'num.partitions': 12, 'compression.type': 'zstd' } }));
    expect(props.get('log.retention.hours')).toBe('24');
    expect(props.get('num.partitions')).toBe('12');
    expect(props.get('compression.type')).toBe('zstd');
  });

  it('accepts replication settings within the broker count', () => {
    const props = parse(buildServerProperties({ brokerCount: 6, overrides: { 'default.replication.factor': 4, 'min.insync.replicas': 3 } }));
    expect(props.get('default.replication.factor')).toBe('4');
    expect(props.get('min.insync.replicas')).toBe('3');
  });

  it('accepts restating the safe value of a protected setting', () => {
    const props = parse(buildServerProperties({ brokerCount: 3, overrides: { 'auto.create.topics.enable': false } }));
    expect(props.get('auto.create.topics.enable')).toBe('false');
  });
});

describe('buildServerProperties validation', () => {
  it('refuses a replication factor above the broker count, naming field, value and range', () => {
    expect(() => buildServerProperties({ brokerCount: 2, overrides: { 'default.replication.factor': 3 } })).toThrow(
      /serverProperties\.default\.replication\.factor is 3 but the cluster has 2 brokers; allowed: 2 to 2/,
    );
  });

  it('refuses a replication factor of 1', () => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'default.replication.factor': 1, 'min.insync.replicas': 1 } })).toThrow(
      /serverProperties\.default\.replication\.factor is 1; allowed: 2 to 3/,
    );
  });

  it('refuses min.insync.replicas equal to the replication factor', () => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'min.insync.replicas': 3 } })).toThrow(
      /serverProperties\.min\.insync\.replicas is 3 with default\.replication\.factor 3; allowed: 1 to 2/,
    );
  });

  it('refuses min.insync.replicas above the replication factor', () => {
    expect(() => buildServerProperties({ brokerCount: 6, overrides: { 'default.replication.factor': 3, 'min.insync.replicas': 4 } })).toThrow(
      /min\.insync\.replicas is 4 .* allowed: 1 to 2/,
    );
  });

  it('refuses min.insync.replicas of 0', () => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'min.insync.replicas': 0 } })).toThrow(/min\.insync\.replicas is 0 .* allowed: 1 to 2/);
  });

  it('checks the transaction log replication the same way', () => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'transaction.state.log.min.isr': 3 } })).toThrow(
      /transaction\.state\.log\.min\.isr is 3 with transaction\.state\.log\.replication\.factor 3/,
    );
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'offsets.topic.replication.factor': 4 } })).toThrow(
      /offsets\.topic\.replication\.factor is 4 but the cluster has 3 brokers/,
    );
  });

  it('refuses a non-integer replication factor', () => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'default.replication.factor': 'three' } })).toThrow(
      /default\.replication\.factor is 'three'; allowed: a positive integer/,
    );
  });

  it.each([
    ['auto.create.topics.enable', true, /auto\.create\.topics\.enable is 'true'; allowed: false/],
    ['unclean.leader.election.enable', 'true', /unclean\.leader\.election\.enable is 'true'; allowed: false/],
    ['allow.everyone.if.no.acl.found', false, /allow\.everyone\.if\.no\.acl\.found is 'false'; allowed: \(not set\).*IAM/],
  ])('refuses the forbidden override %s=%s', (key, value, message) => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { [key]: value } })).toThrow(message);
  });

  it('refuses properties an MSK configuration cannot set', () => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { listeners: 'PLAINTEXT://:9092' } })).toThrow(
      /serverProperties\.listeners is not a property an MSK custom configuration can set; allowed: one of .*num\.partitions/,
    );
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'log.retention.hour': 24 } })).toThrow(/log\.retention\.hour is not a property/);
  });

  it('refuses a value with a line break, which would inject another property', () => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'compression.type': 'zstd\nauto.create.topics.enable=true' } })).toThrow(
      /compression\.type contains a line break; allowed: a single-line value/,
    );
  });

  it('refuses an empty value', () => {
    expect(() => buildServerProperties({ brokerCount: 3, overrides: { 'compression.type': ' ' } })).toThrow(/compression\.type is empty/);
  });

  it.each([1, 0, 2.5])('refuses brokerCount %p', (brokerCount) => {
    expect(() => buildServerProperties({ brokerCount })).toThrow(new RegExp(`brokerCount is ${brokerCount}; allowed: an integer of at least 2`));
  });
});
