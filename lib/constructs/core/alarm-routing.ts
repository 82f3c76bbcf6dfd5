import { Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * Gives a construct's alarms their notification action, or, when the construct is used without one,
 * records that another stack routes them (PlatformAlarms.addCompositeOf): adding the action here
 * would make this stack depend on the stack that owns the alarm topic.
 */
export function routeOrExposeAlarms(alarms: cloudwatch.Alarm[], action: cloudwatch.IAlarmAction | undefined, owner: string): void {
  for (const alarm of alarms) {
    if (action) {
      alarm.addAlarmAction(action);
    } else {
      Validations.of(alarm).acknowledge({
        id: 'NIST.800.53.R5-CloudWatchAlarmAction',
        reason: `${owner} exposes its alarms; the observability stack attaches the notification action.`,
      });
    }
  }
}
