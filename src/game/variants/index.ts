/**
 * The variants the site offers, by id. Adding a variant means adding its module here (and its
 * computer players in ../engines), nothing else.
 */
import { classic } from './classic.js';
import { misere } from './misere.js';
import { ultimate } from './ultimate.js';
import { VARIANT_IDS, type AnyVariant, type VariantId } from './types.js';

export * from './types.js';

export const VARIANTS: Record<VariantId, AnyVariant> = { classic, ultimate, misere };

export function isVariantId(value: unknown): value is VariantId {
  return typeof value === 'string' && (VARIANT_IDS as readonly string[]).includes(value);
}

/** The variant of a stored game. */
export function variantOf(id: VariantId): AnyVariant {
  return VARIANTS[id];
}
