// The mail to a member of a tenancy moving here from another instance, when this instance had no
// account with their address: an account was made for them, and the link sets its password. In the
// member's language, else the tenancy's, else English.
import { formatInstant, type Lang } from '../web/i18n.js';

export interface ArrivalMailFacts {
  name: string;
  tenancy: string;
  coop: string;
  link: string;
  expiresAt: Date;
}

export function arrivalMailText(lang: Lang, f: ArrivalMailFacts): { subject: string; body: string } {
  const when = formatInstant(f.expiresAt, lang);
  if (lang === 'fr')
    return {
      subject: `${f.tenancy} passe chez ${f.coop}`,
      body: [
        `Bonjour ${f.name},`,
        '',
        `« ${f.tenancy} », dont vous êtes membre, sera désormais hébergé par ${f.coop}. Un compte a été créé pour vous avec cette adresse.`,
        'Choisissez votre mot de passe avec ce lien (il ne sert qu\'une fois) :',
        f.link,
        '',
        `Le lien expire le ${when}. Ensuite, demandez-en un nouveau à ${f.coop}.`,
        '',
        'Ce message a été envoyé par meetplane.',
      ].join('\n'),
    };
  if (lang === 'de')
    return {
      subject: `${f.tenancy} zieht zu ${f.coop} um`,
      body: [
        `Hallo ${f.name},`,
        '',
        `„${f.tenancy}“, dem Sie angehören, wird künftig von ${f.coop} betrieben. Für Sie wurde ein Konto mit dieser Adresse angelegt.`,
        'Wählen Sie Ihr Passwort mit diesem Link (er gilt nur einmal):',
        f.link,
        '',
        `Der Link läuft ab am ${when}. Danach fragen Sie ${f.coop} nach einem neuen.`,
        '',
        'Diese Nachricht wurde von meetplane gesendet.',
      ].join('\n'),
    };
  return {
    subject: `${f.tenancy} is moving to ${f.coop}`,
    body: [
      `Hello ${f.name},`,
      '',
      `"${f.tenancy}", which you are a member of, is moving to ${f.coop}, who will host it from now on. An account was made for you with this address.`,
      'Choose your password with this link (it works once):',
      f.link,
      '',
      `The link expires on ${when}. After that, ask ${f.coop} for a new one.`,
      '',
      'This message was sent by meetplane.',
    ].join('\n'),
  };
}
