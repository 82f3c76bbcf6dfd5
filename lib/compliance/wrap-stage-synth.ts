import { Stage } from 'aws-cdk-lib';

type StageSynth = Stage['synth'];

/**
 * Wraps Stage.prototype.synth, once per process for each `key` (a module loaded twice, as jest
 * does, must not wrap twice). Every Stage synthesis then goes through `wrapper`, the app's own
 * included (App extends Stage), whoever calls it.
 */
export function wrapStageSynth(key: string, wrapper: (stage: Stage, synth: () => ReturnType<StageSynth>) => ReturnType<StageSynth>): void {
  const proto = Stage.prototype as unknown as Record<symbol, boolean> & { synth: StageSynth };
  const marker = Symbol.for(key);
  if (proto[marker]) return;
  proto[marker] = true;
  const original = proto.synth;
  proto.synth = function (this: Stage, options?: Parameters<StageSynth>[0]) {
    return wrapper(this, () => original.call(this, options));
  };
}
