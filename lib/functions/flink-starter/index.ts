import type { CustomResourceEvent, CustomResourceResult } from '../shared/custom-resource';

/**
 * Lambda entry points of the FlinkApplication construct's two custom resources:
 *   handler / isCompleteHandler   the starter (starter.ts): start after deploy, wait for RUNNING, stop on delete
 *   packageHandler                the packager (packager.ts): build the application zip before the application
 * The packager and its S3 client load only when packageHandler runs, so the starter's cold start
 * does not pay for them.
 */
export { onEvent as handler, isComplete as isCompleteHandler } from './starter';

export async function packageHandler(event: CustomResourceEvent): Promise<CustomResourceResult> {
  const { onPackageEvent } = await import('./packager');
  return onPackageEvent(event);
}
