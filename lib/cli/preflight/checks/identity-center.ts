import { ListInstancesCommand } from '@aws-sdk/client-sso-admin';
import type { PreflightCheck } from '../types';
import { guarded, result } from './result';

const ID = { id: 'identity-center', title: 'IAM Identity Center for Grafana' };

/**
 * Managed Grafana with AWS_SSO authentication signs users in through IAM Identity Center, which a
 * fresh account does not have; creating the workspace then fails. With SAML it is not needed.
 */
export const identityCenterCheck: PreflightCheck = {
  ...ID,
  run: ({ config, clients, account }) =>
    guarded(ID, 'sso:ListInstances', async () => {
      if (config.observability.grafanaAuthentication === 'SAML') {
        return result(ID, 'pass', 'not needed: Grafana uses SAML (observability.grafanaSaml)');
      }
      const region = await clients.ssoAdmin.config.region();
      const instances = [];
      let nextToken: string | undefined;
      do {
        const page = await clients.ssoAdmin.send(new ListInstancesCommand({ NextToken: nextToken }));
        instances.push(...(page.Instances ?? []));
        nextToken = page.NextToken;
      } while (nextToken);
      const active = instances.filter((instance) => instance.Status === undefined || instance.Status === 'ACTIVE');
      const instance = active[0];
      if (instance) {
        const kind =
          instance.OwnerAccountId && instance.OwnerAccountId !== account ? `organization instance owned by ${instance.OwnerAccountId}` : 'account instance';
        return result(ID, 'pass', `${instance.InstanceArn ?? 'instance'} (${kind}, ${region})`);
      }
      return result(
        ID,
        'fail',
        `no active IAM Identity Center instance visible in ${region}; Grafana uses AWS_SSO (observability.grafanaAuthentication)`,
        'enable IAM Identity Center (console: IAM Identity Center > Enable; an organization instance from the management account, ' +
          `or an account instance) in ${region}, or pass --identity-center-region if it lives in another region; ` +
          'or set observability.grafanaAuthentication to SAML with observability.grafanaSaml (see README "Grafana sign-in")',
      );
    }),
};
