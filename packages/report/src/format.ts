/** Small shared helpers: times, durations, colours. */
import type { TimelineModel } from './model.js';

export const time = (iso: string | null | undefined): number =>
  iso === undefined || iso === null ? NaN : Date.parse(iso);

/** Seconds from `t0` with one decimal and a sign, e.g. `+12.3 s`. */
export function relative(iso: string | null | undefined, t0: string): string {
  const value = (time(iso) - time(t0)) / 1000;
  if (!Number.isFinite(value)) return '';
  return `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(1)} s`;
}

/** `HH:MM:SS.mmm` of an ISO time (UTC), or the text as it is when it is not one. */
export function clock(iso: string | null | undefined): string {
  if (iso === undefined || iso === null) return '';
  return Number.isFinite(time(iso)) ? new Date(time(iso)).toISOString().slice(11, 23) : iso;
}

export const duration = (value: number | undefined): string =>
  value === undefined ? '' : `${value.toFixed(1)} s`;

export const UNKNOWN_OWNER_COLOUR = '#6b7280';
export const GLITCH_COLOUR = '#d40000';

/** The colour of a key owner (or provider); grey when unknown. */
export function colourOf(model: TimelineModel, owner: string | undefined): string {
  if (owner === undefined) return UNKNOWN_OWNER_COLOUR;
  return model.providers.find((provider) => provider.id === owner)?.colour ?? UNKNOWN_OWNER_COLOUR;
}

/** The signer that owns a KSK with this tag, from the keys the sidecars reported. */
export function ownerOfTag(model: TimelineModel, keyTag: number): string | undefined {
  const owners = model.providers.filter((provider) =>
    provider.keys.some((key) => key.keyTag === keyTag && key.role === 'KSK'),
  );
  return owners.length === 1 ? owners[0]!.id : undefined;
}
