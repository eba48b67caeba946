// The words a tenancy's owner reads about a hand-over (the mail asking for
// their answer and their page), in English, French and German. Which one:
// see ownerLanguage below. Co-op and tenancy names are quoted as they are.
import { formatInstant, type Lang } from '../web/i18n.js';
import type { Objection, TenancyAnswer } from './table.js';

export interface OwnerMailFacts {
  owner: string;
  tenancy: string;
  source: string;
  target: string;
  wave: number;
  /** when the wave's freeze starts, when it is known with the full notice before it */
  freeze: Date | null;
  page: string;
  command: string;
}

export interface OwnerText {
  mail: (f: OwnerMailFacts) => { subject: string; body: string };
  title: (tenancy: string) => string;
  heading: (tenancy: string, target: string) => string;
  from: string;
  to: string;
  wave: string;
  frozenFrom: string;
  atTheEarliest: string;
  yourAnswer: string;
  answers: Record<TenancyAnswer, string>;
  recorded: string;
  asOwner: string;
  acceptMeans: string;
  accept: string;
  later: string;
  objectLegend: string;
  choices: Record<Objection, string>;
  object: string;
  nothingToAnswer: (state: string, transferState: string) => string;
  notFoundTitle: string;
  notFoundHeading: string;
  notFound: string;
  refused: string;
  notPossible: string;
  foreignForm: string;
  changed: string;
  chooseOne: string;
}

const cli = (f: OwnerMailFacts) => `  ${f.command}`;

const en: OwnerText = {
  mail: (f) => ({
    subject: `${f.tenancy}: ${f.source} hands its platform to ${f.target}, your answer is needed`,
    body: [
      `Hello ${f.owner},`,
      '',
      `${f.source} hands its whole platform over to ${f.target}. "${f.tenancy}" is planned to move in wave ${f.wave}, ${f.freeze ? `from ${formatInstant(f.freeze, 'en')}` : 'in its wave'},`,
      'with its rooms, member accounts and recordings. Both co-ops have approved the plan; as the owner, the move needs your approval too.',
      '',
      `Answer on your page: ${f.page}`,
      'or from the command line:',
      cli(f),
      '',
      'If you object, your tenancy stays where it is (or you take an export, or move to another host). Members are told before anything moves.',
      '',
      'This message was sent by meetplane on behalf of both co-operatives.',
    ].join('\n'),
  }),
  title: (t) => `${t}: hand-over`,
  heading: (t, target) => `${t} in the hand-over to ${target}`,
  from: 'From',
  to: 'To',
  wave: 'Wave',
  frozenFrom: 'frozen from',
  atTheEarliest: 'at the earliest',
  yourAnswer: 'Your answer',
  answers: { pending: 'not given yet', accepted: 'accepted', objected: 'objected', later: 'asked for a later wave' },
  recorded: 'Your answer is recorded.',
  asOwner: 'Your answer as the owner',
  acceptMeans: 'Accepting approves the move of your tenancy; its members are then told and may object for themselves.',
  accept: 'Accept the move',
  later: 'Ask for the next wave',
  objectLegend: 'Or object: the move of your tenancy stops',
  choices: { stay: 'my tenancy stays where it is', export: 'I take an export of our data', 'other-host': 'we move to another host' },
  object: 'Object',
  nothingToAnswer: (state, transfer) => `There is nothing to answer now: the tenancy is ${state} in the hand-over, its transfer ${transfer}.`,
  notFoundTitle: 'Not found',
  notFoundHeading: 'No such tenancy in a hand-over',
  notFound: 'There is nothing of yours to answer at this address.',
  refused: 'Refused',
  notPossible: 'Not possible',
  foreignForm: 'This form did not come from your session here. Reload the page and try again.',
  changed: 'The transfer changed since you loaded the page. Load it again before you answer.',
  chooseOne: 'Choose to accept, to ask for the next wave, or to object with what you want instead.',
};

const fr: OwnerText = {
  mail: (f) => ({
    subject: `${f.tenancy} : ${f.source} confie sa plateforme à ${f.target}, votre réponse est attendue`,
    body: [
      `Bonjour ${f.owner},`,
      '',
      `${f.source} confie toute sa plateforme à ${f.target}. Le déménagement de « ${f.tenancy} » est prévu dans la vague ${f.wave}, ${f.freeze ? `à partir du ${formatInstant(f.freeze, 'fr')}` : 'au moment de sa vague'},`,
      'avec ses salles, ses comptes membres et ses enregistrements. Les deux coopératives ont approuvé le plan; en tant que propriétaire, votre accord est aussi nécessaire.',
      '',
      `Répondez sur votre page : ${f.page}`,
      'ou en ligne de commande :',
      cli(f),
      '',
      "Si vous vous y opposez, votre espace reste où il est (ou vous en recevez une exportation, ou vous allez chez un autre hébergeur). Les membres sont avisés avant tout déménagement.",
      '',
      'Ce message est envoyé par meetplane au nom des deux coopératives.',
    ].join('\n'),
  }),
  title: (t) => `${t} : transfert de plateforme`,
  heading: (t, target) => `${t} dans le transfert de plateforme vers ${target}`,
  from: 'De',
  to: 'Vers',
  wave: 'Vague',
  frozenFrom: 'gel à partir du',
  atTheEarliest: 'au plus tôt',
  yourAnswer: 'Votre réponse',
  answers: { pending: 'pas encore donnée', accepted: 'acceptée', objected: 'opposition', later: 'vague suivante demandée' },
  recorded: 'Votre réponse est enregistrée.',
  asOwner: 'Votre réponse en tant que propriétaire',
  acceptMeans: "Accepter approuve le déménagement de votre espace; ses membres sont ensuite avisés et peuvent s'y opposer pour eux-mêmes.",
  accept: 'Accepter le déménagement',
  later: 'Demander la vague suivante',
  objectLegend: "Ou vous y opposer : le déménagement de votre espace s'arrête",
  choices: { stay: 'mon espace reste où il est', export: 'je prends une exportation de nos données', 'other-host': 'nous allons chez un autre hébergeur' },
  object: "M'y opposer",
  nothingToAnswer: (state, transfer) => `Il n'y a rien à répondre pour l'instant : l'espace est à l'état « ${state} » dans le transfert de plateforme, son déménagement à l'état « ${transfer} ».`,
  notFoundTitle: 'Introuvable',
  notFoundHeading: 'Aucun espace à vous dans ce transfert de plateforme',
  notFound: "Il n'y a rien à répondre pour vous à cette adresse.",
  refused: 'Refusé',
  notPossible: 'Impossible',
  foreignForm: "Ce formulaire ne vient pas de votre session ici. Rechargez la page et réessayez.",
  changed: 'Le déménagement a changé depuis le chargement de la page. Rechargez-la avant de répondre.',
  chooseOne: "Choisissez d'accepter, de demander la vague suivante, ou de vous y opposer en disant ce que vous voulez à la place.",
};

const de: OwnerText = {
  mail: (f) => ({
    subject: `${f.tenancy}: ${f.source} übergibt seine Plattform an ${f.target}, Ihre Antwort wird gebraucht`,
    body: [
      `Hallo ${f.owner},`,
      '',
      `${f.source} übergibt seine ganze Plattform an ${f.target}. „${f.tenancy}“ soll in Welle ${f.wave} umziehen, ${f.freeze ? `ab ${formatInstant(f.freeze, 'de')}` : 'mit seiner Welle'},`,
      'mit seinen Räumen, Mitgliederkonten und Aufzeichnungen. Beide Genossenschaften haben den Plan genehmigt; als Eigentümer müssen auch Sie dem Umzug zustimmen.',
      '',
      `Antworten Sie auf Ihrer Seite: ${f.page}`,
      'oder auf der Kommandozeile:',
      cli(f),
      '',
      'Wenn Sie widersprechen, bleibt Ihr Bereich, wo er ist (oder Sie erhalten einen Export, oder Sie ziehen zu einem anderen Betreiber). Die Mitglieder werden benachrichtigt, bevor etwas umzieht.',
      '',
      'Diese Nachricht sendet meetplane im Namen beider Genossenschaften.',
    ].join('\n'),
  }),
  title: (t) => `${t}: Plattformübergabe`,
  heading: (t, target) => `${t} in der Plattformübergabe an ${target}`,
  from: 'Von',
  to: 'Nach',
  wave: 'Welle',
  frozenFrom: 'eingefroren ab',
  atTheEarliest: 'frühestens',
  yourAnswer: 'Ihre Antwort',
  answers: { pending: 'noch nicht gegeben', accepted: 'zugestimmt', objected: 'widersprochen', later: 'spätere Welle erbeten' },
  recorded: 'Ihre Antwort ist gespeichert.',
  asOwner: 'Ihre Antwort als Eigentümer',
  acceptMeans: 'Mit Ihrer Zustimmung genehmigen Sie den Umzug Ihres Bereichs; seine Mitglieder werden dann benachrichtigt und können für sich selbst widersprechen.',
  accept: 'Dem Umzug zustimmen',
  later: 'Die nächste Welle erbitten',
  objectLegend: 'Oder widersprechen: der Umzug Ihres Bereichs wird gestoppt',
  choices: { stay: 'mein Bereich bleibt, wo er ist', export: 'ich nehme einen Export unserer Daten', 'other-host': 'wir ziehen zu einem anderen Betreiber' },
  object: 'Widersprechen',
  nothingToAnswer: (state, transfer) => `Jetzt ist nichts zu beantworten: der Bereich ist in der Übergabe „${state}“, sein Umzug „${transfer}“.`,
  notFoundTitle: 'Nicht gefunden',
  notFoundHeading: 'Kein Bereich von Ihnen in dieser Übergabe',
  notFound: 'Unter dieser Adresse gibt es für Sie nichts zu beantworten.',
  refused: 'Abgelehnt',
  notPossible: 'Nicht möglich',
  foreignForm: 'Dieses Formular stammt nicht aus Ihrer Sitzung hier. Laden Sie die Seite neu und versuchen Sie es noch einmal.',
  changed: 'Der Umzug hat sich geändert, seit Sie die Seite geladen haben. Laden Sie sie neu, bevor Sie antworten.',
  chooseOne: 'Wählen Sie: zustimmen, die nächste Welle erbitten, oder widersprechen und sagen, was Sie stattdessen wollen.',
};

export const OWNER_TEXT: Record<Lang, OwnerText> = { en, fr, de };

/**
 * The language of a mail to an owner: the one they chose on their own page;
 * when they chose none, the tenancy's language (its organisation's); English
 * when neither is set. A mail has no browser to ask.
 */
export function ownerLanguage(accountLanguage: Lang | null | undefined, tenancyLanguage: Lang | null | undefined): Lang {
  return accountLanguage ?? tenancyLanguage ?? 'en';
}
