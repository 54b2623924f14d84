/**
 * EventBridge schedule expressions, validated as EventBridge validates a rule's ScheduleExpression:
 * `rate(value unit)` with a whole value of 1 or more and a unit of minute(s), hour(s) or day(s), singular
 * exactly when the value is 1; or `cron(minutes hours day-of-month month day-of-week year)`, six fields,
 * one of the two day fields `?`. Pure; see docs/configuration.md.
 */

const RATE_UNITS = ['minute', 'hour', 'day'] as const;

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names accepted for the values, from `min` on (JAN = 1, SUN = 1). */
  readonly names?: readonly string[];
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day-of-week', min: 1, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
  { name: 'year', min: 1970, max: 2199 },
];
const DAY_OF_MONTH = 2;
const DAY_OF_WEEK = 4;

function fieldValue(text: string, field: CronField): number | undefined {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : undefined;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  return index < 0 ? undefined : field.min + index;
}

/** One comma-separated item: `*`, `v`, `v-w`, each optionally `/step`. */
function isValidItem(item: string, field: CronField): boolean {
  const [base, step, ...rest] = item.split('/');
  if (base === undefined || rest.length > 0) return false;
  if (step !== undefined && !/^[1-9]\d*$/.test(step)) return false;
  if (base === '*') return true;
  const [from, to, ...more] = base.split('-');
  if (from === undefined || more.length > 0 || fieldValue(from, field) === undefined) return false;
  return to === undefined || fieldValue(to, field) !== undefined;
}

/** The special forms of the day fields, allowed only as the whole field. */
function isDaySpecial(text: string, index: number): boolean {
  const upper = text.toUpperCase();
  if (index === DAY_OF_MONTH) {
    if (upper === 'L' || upper === 'LW') return true;
    const weekday = /^(\d{1,2})W$/.exec(upper);
    return weekday?.[1] !== undefined && Number(weekday[1]) >= 1 && Number(weekday[1]) <= 31;
  }
  // L (Saturday), <day>L (the month's last such day), <day>#<n> (its n-th).
  return upper === 'L' || /^([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5])$/.test(upper);
}

function cronProblem(expression: string, body: string): string | undefined {
  const fields = body.trim().split(/\s+/);
  const prefix = `${expression} is not an EventBridge cron expression`;
  if (fields.length !== CRON_FIELDS.length) {
    return `${prefix}: it needs 6 fields (minutes hours day-of-month month day-of-week year), it has ${body.trim() === '' ? 0 : fields.length}`;
  }
  for (const [index, text] of fields.entries()) {
    const field = CRON_FIELDS[index] as CronField;
    const isDay = index === DAY_OF_MONTH || index === DAY_OF_WEEK;
    if (isDay && (text === '?' || isDaySpecial(text, index))) continue;
    if (!text.split(',').every((item) => isValidItem(item, field))) {
      return `${prefix}: the ${field.name} field "${text}" is not valid (values ${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : ''}, with , - * /${isDay ? ' ?' : ''})`;
    }
  }
  const questionMarks = [fields[DAY_OF_MONTH], fields[DAY_OF_WEEK]].filter((f) => f === '?').length;
  if (questionMarks !== 1) {
    return `${prefix}: exactly one of day-of-month and day-of-week must be ?`;
  }
  return undefined;
}

function rateProblem(expression: string, body: string): string | undefined {
  const prefix = `${expression} is not an EventBridge rate`;
  const parts = /^(\S+) (\S+)$/.exec(body);
  if (parts === null) return `${prefix}: write rate(value unit), e.g. rate(5 minutes)`;
  const [, value = '', unit = ''] = parts;
  if (!/^[1-9]\d*$/.test(value)) return `${prefix}: the value must be a whole number of 1 or more`;
  const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
  if (!(RATE_UNITS as readonly string[]).includes(singular)) {
    const tooFast = singular === 'second' ? '; EventBridge runs a rule at most once a minute' : '';
    return `${prefix}: the unit must be minute, hour or day (plural when the value is above 1)${tooFast}`;
  }
  const wanted = value === '1' ? singular : `${singular}s`;
  if (unit !== wanted) return `${prefix}: write "${wanted}" when the value is ${value}`;
  return undefined;
}

/**
 * Why EventBridge would refuse a rule's schedule expression, or undefined when it accepts it.
 * @example scheduleExpressionProblem('rate(5 minutes)') // undefined
 * @example scheduleExpressionProblem('rate(1 second)') // 'rate(1 second) is not an EventBridge rate: ...'
 */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const rate = /^rate\((.*)\)$/.exec(expression);
  if (rate) return rateProblem(expression, rate[1] ?? '');
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return cronProblem(expression, cron[1] ?? '');
  return `${expression} is not an EventBridge rule schedule: write rate(value unit) or cron(6 fields)`;
}
