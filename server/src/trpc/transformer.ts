import superjson from 'superjson';

type SuperJsonResult = ReturnType<typeof superjson.serialize>;

/** Keys superjson would escape in a path, or treats with care: those values go to superjson itself. */
const unusualKey = /[.\\]|^(?:__proto__|constructor|prototype|)$/;

/**
 * superjson's `serialize`, byte for byte, for the answers procedures give: plain objects and
 * arrays of strings, finite numbers, booleans, nulls and valid Dates, each object seen once.
 * Those are written in one pass (a Date as its ISO string, noted in `meta.values` under its
 * path, in superjson's depth-first order). Anything else (undefined, a Map, a class instance,
 * -0, NaN, a shared object, an unusual key, a Date at the top) is handed to superjson whole,
 * so the wire format is superjson's either way (transformer.test.ts
 * compares both over generated values).
 */
export function serializeAnswer(value: unknown): SuperJsonResult {
  const dates: Record<string, ['Date']> = {};
  const seen = new Set<object>();
  let dated = false;
  let plain = true;

  const walk = (input: unknown, path: string): unknown => {
    if (!plain) return null;
    switch (typeof input) {
      case 'string':
      case 'boolean':
        return input;
      case 'number':
        if (Number.isFinite(input) && !Object.is(input, -0)) return input;
        plain = false;
        return null;
      case 'object': {
        if (input === null) return null;
        if (seen.has(input)) {
          plain = false;
          return null;
        }
        seen.add(input);
        if (input instanceof Date) {
          const time = input.getTime();
          if (path === '' || Number.isNaN(time) || Object.getPrototypeOf(input) !== Date.prototype) {
            plain = false;
            return null;
          }
          dates[path] = ['Date'];
          dated = true;
          return input.toISOString();
        }
        const prefix = path === '' ? '' : `${path}.`;
        if (Array.isArray(input)) {
          const out = new Array<unknown>(input.length);
          for (let i = 0; i < input.length; i++) {
            if (!(i in input)) {
              plain = false;
              return null;
            }
            out[i] = walk(input[i], `${prefix}${i}`);
          }
          return out;
        }
        if (Object.getPrototypeOf(input) !== Object.prototype) {
          plain = false;
          return null;
        }
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(input)) {
          if (unusualKey.test(key)) {
            plain = false;
            return null;
          }
          out[key] = walk((input as Record<string, unknown>)[key], `${prefix}${key}`);
        }
        return out;
      }
      default:
        plain = false;
        return null;
    }
  };

  const json = walk(value, '');
  if (!plain) return superjson.serialize(value);
  return (dated ? { json, meta: { values: dates, v: 1 } } : { json }) as SuperJsonResult;
}

/** The router's transformer: answers through `serializeAnswer`, inputs read by superjson. */
export const transformer = {
  serialize: serializeAnswer,
  deserialize: (value: unknown) => superjson.deserialize(value as SuperJsonResult),
};
