/**
 * Rules that AWS itself enforces at deploy time, checked at synth so a bad value fails in seconds
 * with the field, the value and what is allowed. Each function returns problems as messages (empty
 * = allowed); the schema attaches them to the field. Sources: the EC2 VPC, EventBridge Scheduler
 * and resource-tagging documentation.
 */

// ---------------------------------------------------------------------------------------------
// IPv4 CIDR blocks

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number. */
  readonly address: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n`; returns a problem message instead when it is not a well-formed network block. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return 'must be an IPv4 CIDR block a.b.c.d/n';
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((o, i) => o > 255 || (match[i + 1].length > 1 && match[i + 1].startsWith('0')))) {
    return 'has an octet above 255 or with a leading zero';
  }
  const prefix = Number(match[5]);
  if (prefix > 32) return 'has a prefix length above 32';
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) {
    const network = Math.floor(address / size) * size;
    return `has host bits set: the ${prefix}-bit network containing it is ${formatIpv4(network)}/${prefix}`;
  }
  return { address, prefix };
}

export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/**
 * Address ranges a VPC cannot use: this-network, loopback, link-local, multicast and reserved
 * (EC2 refuses them as VPC CIDR blocks).
 */
const RESERVED_RANGES = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4'].map((c) => parseIpv4Cidr(c) as Ipv4Cidr);

export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.address + 2 ** (32 - a.prefix);
  const bEnd = b.address + 2 ** (32 - b.prefix);
  return a.address < bEnd && b.address < aEnd;
}

/** Problems of a VPC CIDR block: well-formed, /16 to /28 (EC2's limits), not a reserved range. */
export function vpcCidrProblems(text: string): string[] {
  const cidr = parseIpv4Cidr(text);
  if (typeof cidr === 'string') return [`${cidr}, e.g. 10.40.0.0/16`];
  if (cidr.prefix < 16 || cidr.prefix > 28) return [`has prefix /${cidr.prefix}: a VPC CIDR block must be /16 to /28`];
  const reserved = RESERVED_RANGES.find((r) => overlaps(cidr, r));
  return reserved
    ? [
        `overlaps the reserved range ${formatIpv4(reserved.address)}/${reserved.prefix}; use a private range such as 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`,
      ]
    : [];
}

/** One subnet group of the created VPC: its mask, one subnet per AZ. */
export interface SubnetGroup {
  readonly name: string;
  readonly cidrMask: number;
}

/**
 * Addresses needed to place `azCount` subnets of each group, in order, each aligned to its own
 * size: how CDK's ec2.Vpc allocates them (a /20 after two /24s starts at the next /20 boundary).
 */
export function addressesNeeded(groups: readonly SubnetGroup[], azCount: number): number {
  let offset = 0;
  for (const group of groups) {
    const size = 2 ** (32 - group.cidrMask);
    for (let i = 0; i < azCount; i++) offset = Math.ceil(offset / size) * size + size;
  }
  return offset;
}

// ---------------------------------------------------------------------------------------------
// Regions and availability zones

/** Problems of explicit AZ names for a region: each `<region><letter>`, none twice. */
export function availabilityZoneProblems(region: string, zones: readonly string[]): string[] {
  const problems: string[] = [];
  const foreign = zones.filter((zone) => !new RegExp(`^${region}[a-z]$`).test(zone));
  if (foreign.length > 0)
    problems.push(`${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not a zone of region ${region} (expected ${region}a, ${region}b, ...)`);
  const repeated = zones.filter((zone, i) => zones.indexOf(zone) !== i);
  if (repeated.length > 0) problems.push(`lists ${[...new Set(repeated)].join(', ')} more than once: each subnet must be in a different zone`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// EventBridge Scheduler expressions

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Wildcards beyond `, - *` that the field accepts. */
  readonly slash: boolean;
  readonly question: boolean;
  readonly last: boolean;
  readonly weekday: boolean;
  readonly hash: boolean;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, slash: true, question: false, last: false, weekday: false, hash: false },
  { name: 'hours', min: 0, max: 23, slash: true, question: false, last: false, weekday: false, hash: false },
  { name: 'day-of-month', min: 1, max: 31, slash: true, question: true, last: true, weekday: true, hash: false },
  { name: 'month', min: 1, max: 12, names: MONTHS, slash: true, question: false, last: false, weekday: false, hash: false },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, slash: false, question: true, last: true, weekday: false, hash: true },
  { name: 'year', min: 1970, max: 2199, slash: true, question: false, last: false, weekday: false, hash: false },
];

function cronValue(field: CronField, text: string): boolean {
  if (/^\d+$/.test(text)) return Number(text) >= field.min && Number(text) <= field.max;
  return field.names?.includes(text.toUpperCase()) ?? false;
}

function cronFieldProblem(field: CronField, text: string): string | undefined {
  const allowed = `${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : ''}`;
  const bad = `${field.name} '${text}' is not valid (values ${allowed}; wildcards , - *${field.slash ? ' /' : ''}${field.question ? ' ?' : ''}${field.last ? ' L' : ''}${field.weekday ? ' W' : ''}${field.hash ? ' #' : ''})`;
  if (text === '?') return field.question ? undefined : bad;
  if (field.hash && text.includes('#')) {
    const [day, nth] = text.split('#');
    return cronValue(field, day) && /^[1-5]$/.test(nth) ? undefined : bad;
  }
  for (const part of text.split(',')) {
    if (field.last && part === 'L') continue;
    if (field.last && field.name === 'day-of-week' && /^[1-7]L$/.test(part)) continue;
    if (field.weekday && /^\d{1,2}W$/.test(part) && cronValue(field, part.slice(0, -1))) continue;
    if (field.weekday && part === 'LW') continue;
    const [range, step, ...extra] = part.split('/');
    if (extra.length > 0 || (step !== undefined && (!field.slash || !/^\d+$/.test(step) || Number(step) < 1))) return bad;
    if (range === '*') continue;
    const bounds = range.split('-');
    if (bounds.length > 2 || !bounds.every((b) => cronValue(field, b))) return bad;
  }
  return undefined;
}

/**
 * Problems of an EventBridge Scheduler cron(...) or rate(...) expression: six fields with their
 * value ranges and wildcards, `?` in exactly one of day-of-month and day-of-week, and rate's
 * positive value with a singular unit for 1 and a plural one otherwise.
 */
export function scheduleExpressionProblems(expression: string): string[] {
  const rate = /^rate\((\d+) ([a-z]+)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2];
    if (value < 1) return ['rate value must be a positive whole number'];
    const units = value === 1 ? ['minute', 'hour', 'day'] : ['minutes', 'hours', 'days'];
    return units.includes(unit) ? [] : [`rate(${value} ${unit}): the unit must be one of ${units.join(', ')} (singular for 1, plural otherwise)`];
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) return ['must be cron(minutes hours day-of-month month day-of-week year) or rate(value unit), e.g. cron(0 3 * * ? *) or rate(1 day)'];
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) return [`cron has ${fields.length} fields; EventBridge needs six: minutes hours day-of-month month day-of-week year`];
  const problems = CRON_FIELDS.map((field, i) => cronFieldProblem(field, fields[i])).filter((p): p is string => p !== undefined);
  const [dayOfMonth, dayOfWeek] = [fields[2], fields[4]];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    problems.push(`exactly one of day-of-month ('${dayOfMonth}') and day-of-week ('${dayOfWeek}') must be '?'`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Tags

/** Characters AWS allows in tag keys and values: letters, numbers, spaces and _ . : / = + - @ */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Tags per resource (EC2, S3, IAM, KMS, CloudFormation stacks...). */
export const MAX_TAGS_PER_RESOURCE = 50;

export function tagKeyProblems(key: string): string[] {
  const problems: string[] = [];
  if (key.length < 1 || key.length > 128) problems.push(`tag key '${key}' must be 1-128 characters`);
  if (!TAG_CHARACTERS.test(key)) problems.push(`tag key '${key}' may contain only letters, numbers, spaces and _ . : / = + - @`);
  if (/^aws:/i.test(key)) problems.push(`tag key '${key}' uses the aws: prefix, which AWS reserves for its own tags`);
  return problems;
}

export function tagValueProblems(key: string, value: string): string[] {
  const problems: string[] = [];
  if (value.length > 256) problems.push(`tag value of '${key}' is ${value.length} characters; at most 256 are allowed`);
  if (!TAG_CHARACTERS.test(value)) problems.push(`tag value of '${key}' ('${value}') may contain only letters, numbers, spaces and _ . : / = + - @`);
  return problems;
}
