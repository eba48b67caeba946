// The rules behind a refusal, in words, for the pages: each rule's id, what it
// says and what to do about it (the @explain and @remedy beside it in its
// policy file). Empty when none of the ids has words.
import { explainRules } from '../../policies/explanations.js';

export function RuleList(props: { ids: readonly string[]; heading?: string }) {
  const rules = explainRules(props.ids);
  if (rules.length === 0) return null;
  return (
    <section aria-label={props.heading ?? 'Rules'}>
      <h2>{props.heading ?? 'Why'}</h2>
      <dl class="rules">
        {rules.map((r) => (
          <>
            <dt>
              <code>{r.id}</code>
            </dt>
            <dd>
              {r.explain}
              <br />
              <span class="muted">What to do: {r.remedy}</span>
            </dd>
          </>
        ))}
      </dl>
    </section>
  );
}
