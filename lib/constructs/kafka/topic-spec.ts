/**
 * Moved to lib/contracts/topic-spec.ts, below both the constructs and the topic-manager handler.
 * This re-export only keeps imports written before the move compiling; import the contract instead.
 */
export * from '../../contracts/topic-spec';
