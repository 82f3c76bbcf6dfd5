import * as z from 'zod/mini';
import { parseTopicSpecs, topicNameSchema, type TopicSpec } from '../../contracts/topic-spec';
import { cfnBoolean, parseProperties, PermanentError } from '../shared/custom-resource';
import { parseBootstrapBrokers } from '../shared/kafka';

const NON_EMPTY = 'must be a non-empty string';

/** What the KafkaTopics construct passes; CloudFormation turns every value into a string. */
const declarationSchema = z.object({
  /** For messages only. */
  ClusterName: z.string(NON_EMPTY).check(z.minLength(1, NON_EMPTY)),
  /** JSON list of TopicSpec. */
  Topics: z.string('must be a JSON list of topics').check(z.minLength(2, 'must be a JSON list of topics')),
  /** JSON list of topic names removed from the declaration that may still be deleted. */
  RetiredTopics: z._default(z.string('must be a JSON list of topic names'), '[]'),
  AllowDelete: cfnBoolean,
});

const propertiesSchema = z.extend(declarationSchema, {
  /**
   * The IAM bootstrap broker string, resolved by CloudFormation from the bootstrap-brokers
   * parameter. A property rather than an SSM read: a new broker list changes the properties, so
   * the resource runs again against the new cluster, and the function needs no SSM client.
   */
  BootstrapBrokers: z
    .string('must be the bootstrap broker string host:9098,...')
    .check(z.refine((value) => parseBootstrapBrokers(value).length > 0, 'must list at least one host:port broker')),
});

/** The topic declaration: what an Update compares against, readable from any earlier version of the properties. */
export interface TopicDeclaration {
  readonly clusterName: string;
  readonly topics: TopicSpec[];
  readonly retiredTopics: string[];
  readonly allowDelete: boolean;
}

export interface TopicManagerProperties extends TopicDeclaration {
  /** host:port entries of the cluster's IAM listener. */
  readonly bootstrapBrokers: string[];
}

export function parseTopicManagerProperties(raw: Record<string, unknown> | undefined, what = 'ResourceProperties'): TopicManagerProperties {
  const props = parseProperties(propertiesSchema, raw, what);
  return { ...declarationFrom(props, what), bootstrapBrokers: parseBootstrapBrokers(props.BootstrapBrokers) };
}

/**
 * Only the declaration part, for OldResourceProperties: properties written before brokers became a
 * property (they named an SSM parameter instead) still tell which topics were declared.
 */
export function parseTopicDeclaration(raw: Record<string, unknown> | undefined, what = 'ResourceProperties'): TopicDeclaration {
  return declarationFrom(parseProperties(declarationSchema, raw, what), what);
}

function declarationFrom(props: z.output<typeof declarationSchema>, what: string): TopicDeclaration {
  let topics: TopicSpec[];
  try {
    topics = parseTopicSpecs(parseJson(props.Topics, `${what}.Topics`));
  } catch (error) {
    throw error instanceof PermanentError ? error : new PermanentError(`Invalid ${what}.Topics: ${(error as Error).message}`);
  }
  const retired = z.safeParse(z.array(topicNameSchema), parseJson(props.RetiredTopics, `${what}.RetiredTopics`));
  if (!retired.success) {
    throw new PermanentError(`Invalid ${what}.RetiredTopics: ${retired.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { clusterName: props.ClusterName, topics, retiredTopics: retired.data, allowDelete: props.AllowDelete };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PermanentError(`Invalid ${what}: not JSON (${(error as Error).message})`);
  }
}
