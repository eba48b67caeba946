// The mail to a moved tenancy's owners and admins at the switch: the tenancy is now hosted by the
// target co-op on another instance, and whoever runs its front end (Greenlight, a learning platform)
// points it at the new gateway URL; this instance forwards its calls there until the grace period
// ends. Sent by the source (it knows these people and their addresses); in the person's language.
import { and, eq, inArray } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import { accounts, memberships } from '../accounts/table.js';
import { enqueueMail } from '../mail/outbox.js';
import { formatInstant, type Lang } from '../web/i18n.js';

export interface MovedMailFacts {
  name: string;
  tenancy: string;
  coop: string;
  gatewayUrl: string;
  forwardUntil: Date;
}

export function movedMailText(lang: Lang, f: MovedMailFacts): { subject: string; body: string } {
  const until = formatInstant(f.forwardUntil, lang);
  if (lang === 'fr')
    return {
      subject: `${f.tenancy} est maintenant hébergé par ${f.coop}`,
      body: [
        `Bonjour ${f.name},`,
        '',
        `« ${f.tenancy} » est maintenant hébergé par ${f.coop}. Son adresse d'API BigBlueButton est désormais :`,
        f.gatewayUrl,
        '',
        `Le secret reste le même. Indiquez cette adresse à votre interface (Greenlight, plateforme de cours) : l'ancienne adresse renvoie les appels jusqu'au ${until}, puis ne répondra plus.`,
        '',
        'Ce message a été envoyé par meetplane.',
      ].join('\n'),
    };
  if (lang === 'de')
    return {
      subject: `${f.tenancy} wird jetzt von ${f.coop} betrieben`,
      body: [
        `Hallo ${f.name},`,
        '',
        `„${f.tenancy}“ wird jetzt von ${f.coop} betrieben. Die BigBlueButton-API-Adresse ist ab sofort:`,
        f.gatewayUrl,
        '',
        `Das Geheimnis bleibt dasselbe. Tragen Sie diese Adresse in Ihrem Frontend ein (Greenlight, Lernplattform): Die alte Adresse leitet Aufrufe bis ${until} weiter, danach nicht mehr.`,
        '',
        'Diese Nachricht wurde von meetplane gesendet.',
      ].join('\n'),
    };
  return {
    subject: `${f.tenancy} is now hosted by ${f.coop}`,
    body: [
      `Hello ${f.name},`,
      '',
      `"${f.tenancy}" is now hosted by ${f.coop}. Its BigBlueButton API address is now:`,
      f.gatewayUrl,
      '',
      `The secret stays the same. Point your front end (Greenlight, a learning platform) at this address: the old address forwards calls until ${until}, and stops after that.`,
      '',
      'This message was sent by meetplane.',
    ].join('\n'),
  };
}

/** Queues the mail to the tenancy's owners and admins (members still, after the switch left objectors out), in the switch's transaction. */
export async function mailMovedTenancy(tx: Tx, transferId: string, tenancyId: string, f: Omit<MovedMailFacts, 'name'>): Promise<number> {
  const people = await tx
    .select({ email: accounts.email, name: accounts.name, language: accounts.language })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(and(eq(memberships.tenancyId, tenancyId), inArray(memberships.role, ['owner', 'admin'])));
  await enqueueMail(
    tx,
    people.map((p) => ({ to: p.email, topic: `transfer:${transferId}`, ...movedMailText(p.language ?? 'en', { ...f, name: p.name }) })),
  );
  return people.length;
}
