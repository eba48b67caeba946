// The mail telling an account it is invited to a tenancy, in the language the
// account chose on /me (English when it chose none: a mail has no browser to
// ask). The link is to /me, where the invitation is accepted or declined.
import { formatInstant, type Lang } from '../web/i18n.js';

export interface InvitationMailFacts {
  name: string;
  tenancy: string;
  coop: string | undefined;
  role: string;
  expiresAt: Date;
  publicUrl: string;
}

const ROLES: Record<Lang, Record<string, string>> = {
  en: {},
  fr: { owner: 'propriétaire', admin: 'administrateur', member: 'membre' },
  de: { owner: 'Eigentümer', admin: 'Verwaltung', member: 'Mitglied' },
};

export function invitationMailText(lang: Lang, f: InvitationMailFacts): { subject: string; body: string } {
  const when = formatInstant(f.expiresAt, lang);
  const role = ROLES[lang][f.role] ?? f.role;
  const me = `${f.publicUrl}/me`;
  if (lang === 'fr')
    return {
      subject: `Invitation à rejoindre ${f.tenancy}`,
      body: [
        `Bonjour ${f.name},`,
        '',
        `Vous êtes invité à rejoindre « ${f.tenancy} » (hébergé par ${f.coop ?? 'une coopérative'}) comme ${role}.`,
        "Rien ne change si vous n'acceptez pas. Vous pouvez accepter ou refuser sur votre page :",
        me,
        '',
        `L'invitation expire le ${when}. Si vous ne connaissez pas cet espace, refusez-la ou ignorez ce message.`,
        '',
        'Ce message a été envoyé par meetplane.',
      ].join('\n'),
    };
  if (lang === 'de')
    return {
      subject: `Einladung zu ${f.tenancy}`,
      body: [
        `Hallo ${f.name},`,
        '',
        `Sie sind eingeladen, „${f.tenancy}“ (betrieben von ${f.coop ?? 'einer Genossenschaft'}) beizutreten, als ${role}.`,
        'Nichts ändert sich, solange Sie nicht annehmen. Sie können auf Ihrer Seite annehmen oder ablehnen:',
        me,
        '',
        `Die Einladung läuft ab am ${when}. Wenn Sie diesen Bereich nicht kennen, lehnen Sie sie ab oder ignorieren Sie diese Nachricht.`,
        '',
        'Diese Nachricht wurde von meetplane gesendet.',
      ].join('\n'),
    };
  return {
    subject: `Invitation to join ${f.tenancy}`,
    body: [
      `Hello ${f.name},`,
      '',
      `You are invited to join "${f.tenancy}" (hosted by ${f.coop ?? 'a co-operative'}) as ${role}.`,
      'Nothing changes unless you accept. You can accept or decline on your page:',
      me,
      '',
      `The invitation expires on ${when}. If you do not know this tenancy, decline it or ignore this message.`,
      '',
      'This message was sent by meetplane.',
    ].join('\n'),
  };
}
