import { bootstrapBrokersFromEnvironment, parseBootstrapBrokers } from '../../lib/functions/shared/kafka';

describe('bootstrap brokers from the environment', () => {
  it('splits the MSK broker string into trimmed host:port entries', () => {
    expect(bootstrapBrokersFromEnvironment({ BOOTSTRAP_BROKERS: 'b-1.msk:9098, b-2.msk:9098 ,,b-3.msk:9098' })).toEqual([
      'b-1.msk:9098',
      'b-2.msk:9098',
      'b-3.msk:9098',
    ]);
    expect(parseBootstrapBrokers('b-1.msk:9098')).toEqual(['b-1.msk:9098']);
  });

  it('reads process.env by default', () => {
    process.env.BOOTSTRAP_BROKERS = 'b-9.msk:9098';
    try {
      expect(bootstrapBrokersFromEnvironment()).toEqual(['b-9.msk:9098']);
    } finally {
      delete process.env.BOOTSTRAP_BROKERS;
    }
  });

  it('names the variable when it is missing or holds no broker', () => {
    expect(() => bootstrapBrokersFromEnvironment({})).toThrow(/^BOOTSTRAP_BROKERS is not set: it must hold the MSK IAM bootstrap broker string/);
    expect(() => bootstrapBrokersFromEnvironment({ BOOTSTRAP_BROKERS: ' , ' })).toThrow(
      /^BOOTSTRAP_BROKERS is empty: .*has the bootstrap-brokers resource run\?/,
    );
  });
});

describe('Kafka timeouts', () => {
  it("builds clients whose request timeout outlasts the brokers' ack wait", () => {
    const configs: Array<{ requestTimeout?: number }> = [];
    jest.isolateModules(() => {
      jest.doMock('kafkajs', () => ({ ...jest.requireActual('kafkajs'), Kafka: jest.fn((config: { requestTimeout?: number }) => configs.push(config)) }));
      const { PRODUCE_ACK_TIMEOUT_MS, createMskIamKafka } = require('../../lib/functions/shared/kafka') as typeof import('../../lib/functions/shared/kafka');
      createMskIamKafka({ brokers: ['b-1:9098'], region: 'eu-west-1', clientId: 't' });
      expect(configs[0].requestTimeout).toBeGreaterThan(PRODUCE_ACK_TIMEOUT_MS);
    });
    expect(configs).toHaveLength(1);
  });
});
