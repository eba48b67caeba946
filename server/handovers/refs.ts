// A hand-over as the policies place it: inside its source co-op, with the target co-op as an attribute.
import type { ResourceRef } from '../../policies/evaluator.js';

export const handoverRef = (h: { id: string; sourceCoopId: string; targetCoopId: string }): ResourceRef => ({
  type: 'Handover',
  id: h.id,
  sourceCoopId: h.sourceCoopId,
  targetCoopId: h.targetCoopId,
});
