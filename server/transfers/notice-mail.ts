// The notice mail a member gets when their tenancy's transfer is announced,
// in the language they chose on /me (English when they chose none: a mail
// has no browser to ask).
import { formatInstant, type Lang } from '../web/i18n.js';

export interface NoticeMailFacts {
  member: string;
  owner: boolean;
  tenancy: string;
  source: { name: string; jurisdiction: string };
  target: { name: string; jurisdiction: string };
  freeze: Date;
  noticeDays: number;
  page: string;
  /** the member's own Greenlight rooms that move, with their new links (same room, new host) */
  rooms?: Array<{ name: string; link: string }>;
}

/** The member's rooms and their new links, after a heading in the mail's language; nothing when none move. */
function roomLines(heading: string, rooms: NoticeMailFacts['rooms']): string[] {
  if (!rooms?.length) return [];
  return ['', heading, ...rooms.map((r) => `- ${r.name}: ${r.link}`)];
}

export function noticeMail(lang: Lang, f: NoticeMailFacts): { subject: string; body: string } {
  const day = f.freeze.toISOString().slice(0, 10);
  const when = formatInstant(f.freeze, lang);
  if (lang === 'fr')
    return {
      subject: `${f.tenancy} déménage chez ${f.target.name} le ${day}`,
      body: [
        `Bonjour ${f.member},`,
        '',
        `${f.source.name} (${f.source.jurisdiction}) confie l'espace « ${f.tenancy} » à ${f.target.name} (${f.target.jurisdiction}).`,
        `Ses salles, comptes membres et enregistrements seront transférés. L'espace est gelé le ${when}, ou plus tard :`,
        `pas avant que chaque membre ait eu cet avis depuis ${f.noticeDays} jour${f.noticeDays === 1 ? '' : 's'}. Pendant le gel, aucune nouvelle réunion ne peut commencer`,
        "jusqu'à la fin du transfert; les réunions en cours ont le temps de se terminer.",
        ...roomLines('Vos salles Greenlight déménagent aussi; après le transfert, leurs liens sont :', f.rooms),
        '',
        `D'ici là, vous pouvez accepter ou vous opposer sur votre page de membre, qui dit aussi qui est le nouvel hébergeur, sur quel fondement juridique, et vos droits : ${f.page}`,
        f.owner ? "En tant que propriétaire, votre opposition arrête le transfert." : "Si vous vous y opposez, vos données personnelles restent hors du transfert et vous en recevez une exportation lisible par machine.",
        '',
        'Ce message est envoyé par meetplane au nom des deux coopératives.',
      ].join('\n'),
    };
  if (lang === 'de')
    return {
      subject: `${f.tenancy} zieht am ${day} zu ${f.target.name} um`,
      body: [
        `Hallo ${f.member},`,
        '',
        `${f.source.name} (${f.source.jurisdiction}) übergibt den Bereich „${f.tenancy}“ an ${f.target.name} (${f.target.jurisdiction}).`,
        `Seine Räume, Mitgliederkonten und Aufzeichnungen ziehen um. Der Bereich wird am ${when} eingefroren, oder später:`,
        `nicht bevor jedes Mitglied diese Ankündigung ${f.noticeDays} Tag${f.noticeDays === 1 ? '' : 'e'} lang hatte. Solange er eingefroren ist, kann keine neue Konferenz beginnen,`,
        'bis der Umzug fertig ist; laufende Konferenzen haben Zeit zu enden.',
        ...roomLines('Ihre Greenlight-Räume ziehen mit um; nach dem Umzug lauten ihre Links:', f.rooms),
        '',
        `Bis dahin können Sie auf Ihrer Mitgliederseite zustimmen oder widersprechen; dort steht auch, wer der neue Betreiber ist, auf welcher Rechtsgrundlage, und Ihre Rechte: ${f.page}`,
        f.owner ? 'Als Eigentümer stoppt Ihr Widerspruch den Umzug.' : 'Wenn Sie widersprechen, bleiben Ihre personenbezogenen Daten außen vor und Sie erhalten stattdessen einen maschinenlesbaren Export davon.',
        '',
        'Diese Nachricht sendet meetplane im Namen beider Genossenschaften.',
      ].join('\n'),
    };
  const days = `${f.noticeDays} day${f.noticeDays === 1 ? '' : 's'}`;
  return {
    subject: `${f.tenancy} is moving to ${f.target.name} on ${day}`,
    body: [
      `Hello ${f.member},`,
      '',
      `${f.source.name} (${f.source.jurisdiction}) hands the tenancy "${f.tenancy}" over to ${f.target.name} (${f.target.jurisdiction}).`,
      `Its rooms, member accounts and recordings will move. The tenancy is frozen on ${when}, or later:`,
      `not before every member has had this notice for ${days}. While it is frozen no new meetings can be started`,
      'until the move is finished; meetings already running are given time to end.',
      ...roomLines('Your Greenlight rooms move too; after the move, their links are:', f.rooms),
      '',
      `Until then you can consent or object on your member page, which also says who the new host is, on what legal basis, and your rights: ${f.page}`,
      f.owner ? 'As the owner, your objection stops the transfer.' : 'If you object, your personal data stays out of the move and you receive a machine-readable export of it instead.',
      '',
      'This message was sent by meetplane on behalf of both co-operatives.',
    ].join('\n'),
  };
}
