/**
 * Spark and Scala versions of the EMR releases the project knows, from the EMR Release Guide
 * ("Spark release history" and "Application versions in Amazon EMR 7.x releases"). The Spark
 * streaming job's Kafka connector jars must match them exactly: spark-sql-kafka calls Spark
 * internals that change between patch releases. Add a release here, with its versions from the
 * guide, before moving `emr.releaseLabel` to it.
 */
export const EMR_RELEASE_RUNTIMES: Readonly<Record<string, { readonly spark: string; readonly scala: string }>> = {
  'emr-7.8.0': { spark: '3.5.4', scala: '2.12' },
  'emr-7.9.0': { spark: '3.5.5', scala: '2.12' },
  'emr-7.10.0': { spark: '3.5.5', scala: '2.12' },
};
