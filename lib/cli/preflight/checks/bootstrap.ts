import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { isNotFound } from '../../common/aws-errors';
import type { PreflightCheck } from '../types';
import { guarded, result } from './result';

const ID = { id: 'bootstrap-version', title: 'CDK bootstrap version' };
const QUALIFIER = /^\/cdk-bootstrap\/([^/]+)\/version$/;

/** The account and region must hold a CDK bootstrap stack at least as new as the stage requires. */
export const bootstrapCheck: PreflightCheck = {
  ...ID,
  run: ({ config, clients, requirements, account }) =>
    guarded(ID, 'ssm:GetParameter on the /cdk-bootstrap/* parameters', async () => {
      const target = `aws://${account}/${config.region}`;
      if (requirements.bootstrap.length === 0) return result(ID, 'pass', 'the stage requires no bootstrap stack');
      const findings = [];
      for (const requirement of requirements.bootstrap) {
        const qualifier = QUALIFIER.exec(requirement.parameterName)?.[1];
        const command = `npx cdk bootstrap ${target}${qualifier && qualifier !== 'hnb659fds' ? ` --qualifier ${qualifier}` : ''}`;
        let deployed: number | undefined;
        try {
          const out = await clients.ssm.send(new GetParameterCommand({ Name: requirement.parameterName }));
          deployed = Number(out.Parameter?.Value);
        } catch (error) {
          if (!isNotFound(error, 'ParameterNotFound')) throw error;
        }
        if (deployed === undefined) {
          findings.push({ ok: false, detail: `not bootstrapped: ${requirement.parameterName} does not exist in ${config.region}`, remedy: `run ${command}` });
        } else if (!Number.isFinite(deployed) || deployed < requirement.minVersion) {
          findings.push({
            ok: false,
            detail: `bootstrap version ${Number.isFinite(deployed) ? deployed : 'unreadable'} in ${config.region}; the stage needs ${requirement.minVersion} or later (${requirement.parameterName})`,
            remedy: `run ${command} to update the bootstrap stack`,
          });
        } else {
          findings.push({ ok: true, detail: `version ${deployed} (needs ${requirement.minVersion} or later)`, remedy: null });
        }
      }
      const failed = findings.filter((f) => !f.ok);
      if (failed.length === 0) return result(ID, 'pass', findings.map((f) => f.detail).join('; '));
      return result(ID, 'fail', failed.map((f) => f.detail).join('; '), failed.map((f) => f.remedy).join('; '));
    }),
};
