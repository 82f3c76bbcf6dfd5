import { DescribeRouteTablesCommand, type Route } from '@aws-sdk/client-ec2';
import type { ResolvedEnvironment } from '../../../config/load-config';
import type { PreflightCheck } from '../types';
import { guarded, result } from './result';

const ID = { id: 'internet-egress', title: 'Internet egress from an imported VPC' };

/**
 * Route targets that carry traffic from a private subnet to the internet: a NAT gateway, an internet
 * gateway (an egress-only one carries IPv6 only, which Google's APIs do not need), a transit gateway
 * (the usual hub-and-spoke egress), or a network interface / instance (a NAT or firewall appliance).
 * A VPC endpoint or peering route reaches AWS services or another VPC, never the internet.
 */
const EGRESS_TARGETS: ReadonlyArray<[keyof Route, string]> = [
  ['NatGatewayId', 'NAT gateway'],
  ['GatewayId', 'internet gateway'],
  ['TransitGatewayId', 'transit gateway'],
  ['NetworkInterfaceId', 'network interface'],
  ['InstanceId', 'instance'],
];

/** Components that call the internet from inside the VPC, by config: only GA4 ingest (Google's APIs over 443). */
export function internetConsumers(config: ResolvedEnvironment): string[] {
  return config.ga4 ? ['GA4 ingest (HTTPS to Google Analytics Data API and OAuth)'] : [];
}

/** How a route table reaches 0.0.0.0/0, or undefined when it does not. */
export function defaultRouteTarget(routes: readonly Route[]): string | undefined {
  const route = routes.find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.State !== 'blackhole');
  if (!route) return undefined;
  for (const [field, label] of EGRESS_TARGETS) {
    const value = route[field];
    // An internet gateway's id starts with igw-; GatewayId also holds VPC endpoint ids (vpce-), which do not reach the internet.
    if (typeof value === 'string' && (field !== 'GatewayId' || value.startsWith('igw-'))) return `${label} ${value}`;
  }
  return undefined;
}

/**
 * A created VPC gets NAT gateways from config, and synth refuses GA4 without one. An imported VPC's
 * routes are invisible at synth (no lookups), so this check reads the configured route tables: a
 * function in a private subnet without a default route to an egress target would time out on every
 * run without an error naming the network.
 */
export const internetEgressCheck: PreflightCheck = {
  ...ID,
  run: ({ config, clients }) =>
    guarded(ID, 'ec2:DescribeRouteTables', async () => {
      const consumers = internetConsumers(config);
      if (consumers.length === 0) return result(ID, 'pass', 'not needed: nothing in the VPC calls the internet (GA4 ingest is not configured)');
      if (config.network.mode !== 'import') {
        return result(ID, 'pass', `created VPC with ${config.network.natGateways} NAT gateway(s) (synth refuses GA4 without one)`);
      }
      const ids = config.network.privateSubnetRouteTableIds;
      const response = await clients.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [...ids] }));
      const byId = new Map((response.RouteTables ?? []).map((table) => [table.RouteTableId, table]));
      const findings = ids.map((id) => ({ id, target: defaultRouteTarget(byId.get(id)?.Routes ?? []) }));
      const missing = findings.filter((f) => f.target === undefined).map((f) => f.id);
      if (missing.length > 0) {
        return result(
          ID,
          'fail',
          `${consumers.join(', ')} runs in the private subnets, but route table(s) ${missing.join(', ')} have no 0.0.0.0/0 route to a NAT, internet or transit gateway or an appliance`,
          'add a default route to a NAT gateway (or your egress transit gateway / firewall) in those route tables, ' +
            'or list route tables that have one in network.privateSubnetRouteTableIds, or remove the ga4 block',
        );
      }
      return result(ID, 'pass', findings.map((f) => `${f.id} → ${f.target}`).join(', '));
    }),
};
