/**
 * `logTimeFormat`: the proxy log's `time` field written in one of Go's named
 * time layouts (the names llama-swap accepts), in local time, instead of
 * pino's milliseconds since the epoch. '' keeps the number.
 */
import type { LogTimeFormat } from '../config/types.ts';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** -0700 (`colon`: -07:00; `z`: Z for UTC, as Go's Z07:00). */
function offset(d: Date, colon: boolean, z: boolean): string {
  const minutes = -d.getTimezoneOffset();
  if (z && minutes === 0) return 'Z';
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
}

/** The zone abbreviation (MST in Go's layouts), or the numeric offset where the platform has none. */
function zone(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  const name = part?.value ?? '';
  return /^[A-Z]{2,5}$/.test(name) ? name : offset(d, false, false);
}

/** Fraction of a second from a millisecond clock: `digits` places (Go pads with zeros; nano trims them). */
function fraction(d: Date, digits: number): string {
  return pad(d.getMilliseconds(), 3).padEnd(digits, '0');
}

/** `d` written in the Go layout `format` (local time). */
export function formatTime(format: Exclude<LogTimeFormat, ''>, d: Date): string {
  const wd = DAYS[d.getDay()]!;
  const mon = MONTHS[d.getMonth()]!;
  const day2 = pad(d.getDate());
  const dayPad = String(d.getDate()).padStart(2, ' ');
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const yy = pad(d.getFullYear() % 100);
  const yyyy = String(d.getFullYear());
  const date = `${yyyy}-${pad(d.getMonth() + 1)}-${day2}`;
  switch (format) {
    case 'ansic': return `${wd.slice(0, 3)} ${mon} ${dayPad} ${hms} ${yyyy}`;
    case 'unixdate': return `${wd.slice(0, 3)} ${mon} ${dayPad} ${hms} ${zone(d)} ${yyyy}`;
    case 'rubydate': return `${wd.slice(0, 3)} ${mon} ${day2} ${hms} ${offset(d, false, false)} ${yyyy}`;
    case 'rfc822': return `${day2} ${mon} ${yy} ${hms.slice(0, 5)} ${zone(d)}`;
    case 'rfc822z': return `${day2} ${mon} ${yy} ${hms.slice(0, 5)} ${offset(d, false, false)}`;
    case 'rfc850': return `${wd}, ${day2}-${mon}-${yy} ${hms} ${zone(d)}`;
    case 'rfc1123': return `${wd.slice(0, 3)}, ${day2} ${mon} ${yyyy} ${hms} ${zone(d)}`;
    case 'rfc1123z': return `${wd.slice(0, 3)}, ${day2} ${mon} ${yyyy} ${hms} ${offset(d, false, false)}`;
    case 'rfc3339': return `${date}T${hms}${offset(d, true, true)}`;
    case 'rfc3339nano': {
      const ms = d.getMilliseconds();
      const frac = ms === 0 ? '' : `.${pad(ms, 3).replace(/0+$/, '')}`;
      return `${date}T${hms}${frac}${offset(d, true, true)}`;
    }
    case 'kitchen': return `${d.getHours() % 12 === 0 ? 12 : d.getHours() % 12}:${pad(d.getMinutes())}${d.getHours() < 12 ? 'AM' : 'PM'}`;
    case 'stamp': return `${mon} ${dayPad} ${hms}`;
    case 'stampmilli': return `${mon} ${dayPad} ${hms}.${fraction(d, 3)}`;
    case 'stampmicro': return `${mon} ${dayPad} ${hms}.${fraction(d, 6)}`;
    case 'stampnano': return `${mon} ${dayPad} ${hms}.${fraction(d, 9)}`;
  }
}

/** pino's `timestamp` option for `format`: undefined keeps pino's default (epoch milliseconds). */
export function pinoTimestamp(format: LogTimeFormat): (() => string) | undefined {
  if (format === '') return undefined;
  return () => `,"time":${JSON.stringify(formatTime(format, new Date()))}`;
}
