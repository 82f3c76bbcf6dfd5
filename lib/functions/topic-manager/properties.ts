import * as z from 'zod';
import { parseTopicSpecs, topicNameSchema, type TopicSpec } from '../../constructs/kafka/topic-spec';
import { cfnBoolean, parseProperties, PermanentError } from '../shared/custom-resource';

/** What the KafkaTopics construct passes; CloudFormation turns every value into a string. */
const propertiesSchema = z.object({
  /** For messages only. */
  ClusterName: z.string().min(1),
  /** SSM parameter holding the IAM bootstrap broker string. */
  BootstrapBrokersParameter: z.string().min(1),
  /** JSON list of TopicSpec. */
  Topics: z.string().min(2),
  /** JSON list of topic names removed from the declaration that may still be deleted. */
  RetiredTopics: z.string().default('[]'),
  AllowDelete: cfnBoolean,
});

export interface TopicManagerProperties {
  readonly clusterName: string;
  readonly bootstrapBrokersParameter: string;
  readonly topics: TopicSpec[];
  readonly retiredTopics: string[];
  readonly allowDelete: boolean;
}

export function parseTopicManagerProperties(raw: Record<string, unknown> | undefined, what = 'ResourceProperties'): TopicManagerProperties {
  const props = parseProperties(propertiesSchema, raw, what);
  let topics: TopicSpec[];
  try {
    topics = parseTopicSpecs(parseJson(props.Topics, `${what}.Topics`));
  } catch (error) {
    throw error instanceof PermanentError ? error : new PermanentError(`Invalid ${what}.Topics: ${(error as Error).message}`);
  }
  const retired = z.array(topicNameSchema).safeParse(parseJson(props.RetiredTopics, `${what}.RetiredTopics`));
  if (!retired.success) {
    throw new PermanentError(`Invalid ${what}.RetiredTopics: ${retired.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return {
    clusterName: props.ClusterName,
    bootstrapBrokersParameter: props.BootstrapBrokersParameter,
    topics,
    retiredTopics: retired.data,
    allowDelete: props.AllowDelete,
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PermanentError(`Invalid ${what}: not JSON (${(error as Error).message})`);
  }
}
