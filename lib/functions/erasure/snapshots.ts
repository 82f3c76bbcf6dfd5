import {
  DeleteApplicationSnapshotCommand,
  ListApplicationSnapshotsCommand,
  ResourceNotFoundException,
  type KinesisAnalyticsV2Client,
  type SnapshotDetails,
} from '@aws-sdk/client-kinesis-analytics-v2';

/**
 * Deletes every snapshot of the Flink application taken before `before`: each holds the keyed state
 * (running counts) of the moment it was taken, which may include the people being erased. The running
 * application is not touched; its next stop takes a fresh snapshot, and a start without one begins
 * from the raw topic (flink-starter). Returns the deleted snapshot names; a missing application or
 * snapshot counts as done.
 */
export async function deleteSnapshotsBefore(client: KinesisAnalyticsV2Client, applicationName: string, before: Date): Promise<string[]> {
  const snapshots: SnapshotDetails[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await client.send(new ListApplicationSnapshotsCommand({ ApplicationName: applicationName, Limit: 50, NextToken: nextToken }));
      snapshots.push(...(page.SnapshotSummaries ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return [];
    throw error;
  }
  const deleted: string[] = [];
  for (const snapshot of snapshots) {
    const created = snapshot.SnapshotCreationTimestamp;
    if (!snapshot.SnapshotName || !created || created.getTime() >= before.getTime()) continue;
    try {
      await client.send(
        new DeleteApplicationSnapshotCommand({ ApplicationName: applicationName, SnapshotName: snapshot.SnapshotName, SnapshotCreationTimestamp: created }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    deleted.push(snapshot.SnapshotName);
  }
  return deleted.sort();
}
