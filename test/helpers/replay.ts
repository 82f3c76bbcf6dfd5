import type { CheckpointStore, RangeCheckpoint } from '../../lib/functions/file-replay/checkpoint';

/** Replay checkpoints kept in memory, as S3CheckpointStore keeps them in the landing bucket. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly saved = new Map<string, RangeCheckpoint>();
  async load(key: string): Promise<RangeCheckpoint | undefined> {
    return this.saved.get(key);
  }
  async save(key: string, checkpoint: RangeCheckpoint): Promise<void> {
    this.saved.set(key, checkpoint);
  }
}
