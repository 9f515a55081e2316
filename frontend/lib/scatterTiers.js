// Which marks are drawn how: hidden, dimmed by a filter, shown, or selected; grouped for one fill per group.

/** Tiers, drawn from low to high so selected marks sit on top. */
export const TIER = { HIDDEN: 0, FILTERED: 1, SHOWN: 2, SELECTED: 3 };
export const TIER_COUNT = 4;

/**
 * Tier of every track from its category's visibility and the marks (passes: filter mask, selected:
 * selection mask, either null; hideFiltered: filtered-out tracks hidden instead of dimmed), plus a counting
 * sort of track indices by (tier, category) so each group is one contiguous run of `order`.
 * Returns {tier, order, offsets, tierCounts, hasSelection}; group (t, c) is order[offsets[t*C+c] .. offsets[t*C+c+1]).
 */
export function computeTiers(codes, visible, { passes = null, selected = null, hideFiltered = false } = {}) {
  const n = codes.length;
  const categoryCount = visible.length;
  const tier = new Uint8Array(n);
  const groups = TIER_COUNT * categoryCount;
  const offsets = new Int32Array(groups + 1);
  const tierCounts = new Int32Array(TIER_COUNT);
  let hasSelection = false;
  if (selected) for (let i = 0; i < n; i++) if (selected[i]) { hasSelection = true; break; }
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    let t;
    if (!visible[c]) t = TIER.HIDDEN;
    else if (passes && !passes[i]) t = hideFiltered ? TIER.HIDDEN : TIER.FILTERED;
    else t = hasSelection && selected[i] ? TIER.SELECTED : TIER.SHOWN;
    tier[i] = t;
    offsets[t * categoryCount + c + 1]++;
    tierCounts[t]++;
  }
  for (let g = 0; g < groups; g++) offsets[g + 1] += offsets[g];
  const cursor = offsets.slice(0, groups);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[cursor[tier[i] * categoryCount + codes[i]]++] = i;
  return { tier, order, offsets, tierCounts, hasSelection };
}

/** Opacity and size of a tier's marks given the base style: filtered-out faint, unselected muted. */
export function tierStyle(t, { radius, alpha }, hasSelection) {
  if (t === TIER.FILTERED) return { radius, alpha: alpha * 0.14 };
  if (t === TIER.SHOWN) return { radius, alpha: hasSelection ? alpha * 0.3 : alpha };
  return { radius: radius * 1.25, alpha: Math.min(1, alpha + 0.1) };
}
