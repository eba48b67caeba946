// The words of the member's transfer page, in English, French and German
// (the language the member's browser asks for: ../web/i18n.ts). Legal
// references and names (the adequacy decision, the authority) are quoted as
// the jurisdiction registry gives them, untranslated.
import type { Lang } from '../web/i18n.js';
import type { TransferEvidence } from './facts.js';

type Claimed = Record<TransferEvidence['claimedBasis'], string>;

export interface NoticeText {
  title: (tenancy: string) => string;
  heading: (tenancy: string, target: string) => string;
  intro: (source: string, state: string) => string;
  takesEffectShort: string;
  introEnd: string;
  objectionRecorded: string;
  consentRecorded: string;
  stoppedWhy: string;
  newHost: string;
  legalName: string;
  country: string;
  storedIn: string;
  contact: string;
  legalBasis: string;
  heldToday: (source: string, country: string, version: string) => string;
  domestic: (country: string, regime: string) => string;
  adequacy: (country: string, reference: string, regime: string) => string;
  dpf: (listed: boolean) => string;
  pipeda: (subject: boolean) => string;
  unknownRegime: (country: string, claimed: string) => string;
  noAdequacy: (country: string, claimed: string) => string;
  signed: (hashes: string) => string;
  claimed: Claimed;
  whatMoves: string;
  movesTo: (target: string) => string;
  movesTenancy: (tenancy: string, rooms: number) => string;
  movesRecordings: (n: number) => string;
  movesMembers: string;
  /** your own Greenlight rooms: they move with the same link path at the new host */
  yourRooms: string;
  yourRoomsStay: string;
  roomRecordings: (n: number) => string;
  doesNotMove: string;
  notRetention: (days: number) => string;
  notObjectors: (source: string) => string;
  notAccount: (source: string) => string;
  timeline: string;
  announced: string;
  notYet: string;
  takesEffect: string;
  notBefore: string;
  notAnnounced: string;
  frozenMeaning: (minutes: number) => string;
  sourceDeleted: (source: string) => string;
  deletedAt: string;
  deletedOn: string;
  deletedAfter: (days: number) => string;
  safetyCopy: string;
  rights: string;
  objectRight: string;
  objectRightText: string;
  yourExports: string;
  byMail: string;
  seeRight: string;
  seeRightText: string;
  yourData: string;
  complainRight: string;
  complainText: string;
  afterMoveAlso: string;
  whereYouLive: string;
  authorityOf: (country: string) => string;
  ask: string;
  askMove: (source: string) => string;
  askAfter: (target: string) => string;
  answer: string;
  objectedOwner: string;
  objectedMember: string;
  exportAppears: string;
  agreeHeading: string;
  agreeText: string;
  consentButton: string;
  objectHeading: string;
  objectText: string;
  objectButton: string;
  closed: (state: string) => string;
  confirmTitle: string;
  confirmHeading: string;
  whatFollows: string;
  followsOwner: string[];
  followsMember: [string, string, string];
  noWithdraw: string;
  yesObject: string;
  goBack: string;
}

const s = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const en: NoticeText = {
  title: (t) => `${t} is moving`,
  heading: (t, to) => `${t} is moving to ${to}`,
  intro: (src, state) => `${src} hosts this tenancy today. The transfer is ${state}`,
  takesEffectShort: '; it takes effect not before ',
  introEnd: '. Below is what you should know before your data moves, and your answer.',
  objectionRecorded: 'Your objection is recorded.',
  consentRecorded: 'Your consent is recorded.',
  stoppedWhy: 'Why the transfer was stopped',
  newHost: 'The new host',
  legalName: 'Legal name',
  country: 'Country',
  storedIn: 'Where your data will be stored',
  contact: 'Contact',
  legalBasis: 'The legal basis for the move',
  heldToday: (src, c, v) => `Your data is held today by ${src} in ${c}. The move is lawful on this basis, from the jurisdiction register (version ${v}):`,
  domestic: (c, r) => `${c}: inside the area of the ${r}; no transfer safeguard is needed.`,
  adequacy: (c, ref, r) => `${c}: adequacy decision ${ref} (${r}).`,
  dpf: (l) => ` It covers organisations listed under the Data Privacy Framework${l ? '; the new host is listed.' : '.'}`,
  pipeda: (p) => ` It covers organisations subject to PIPEDA${p ? '; the new host is.' : '.'}`,
  unknownRegime: (c, cl) => `${c}: the current host is not under a regime the registry knows; it relies on ${cl}.`,
  noAdequacy: (c, cl) => `${c}: no adequacy decision; the move relies on ${cl}`,
  signed: (h) => `, signed (document SHA-256 ${h})`,
  claimed: {
    domestic: 'no transfer abroad: the same data-protection law applies at the new host',
    adequacy: 'an adequacy decision',
    sccs: 'standard contractual clauses (GDPR Art. 46(2)(c); UK: the International Data Transfer Addendum)',
    art49: 'a derogation for a specific situation (GDPR Art. 49)',
  },
  whatMoves: 'What moves, and what does not',
  movesTo: (to) => `Moves to ${to}`,
  movesTenancy: (t, n) => `The tenancy ${t}: its settings and its ${s(n, 'room', 'rooms')}.`,
  movesRecordings: (n) => `Its ${s(n, 'recording', 'recordings')} (video, audio, slides, chat), with their playback links updated.`,
  movesMembers: 'Its member list: your name, e-mail address and role, unless you object. An account that belongs to this tenancy only moves to the new host with it.',
  yourRooms: 'Your Greenlight rooms move too, with their settings and shares; after the move their links are:',
  yourRoomsStay: 'You objected: your Greenlight rooms stay where they are.',
  roomRecordings: (n) => `(${s(n, 'recording', 'recordings')})`,
  doesNotMove: 'Does not move',
  notRetention: (d) => `Recordings older than the tenancy's retention period (${d} days): they are deleted, not copied.`,
  notObjectors: (src) => `The personal data of members who object: it stays with ${src}, and they receive a copy of it.`,
  notAccount: (src) => `Your account, if you also belong to other tenancies of ${src}, and the record of this move in the audit log (it names you only by a pseudonym).`,
  timeline: 'Timeline',
  announced: 'Announced',
  notYet: 'not yet',
  takesEffect: 'Takes effect (the tenancy freezes)',
  notBefore: 'not before ',
  notAnnounced: 'not yet announced',
  frozenMeaning: (m) => `. No new meeting can start while it is frozen; meetings already running get ${m} minutes to end. The copy usually takes minutes to hours.`,
  sourceDeleted: (src) => `Copy at ${src} deleted`,
  deletedAt: 'deleted ',
  deletedOn: 'on ',
  deletedAfter: (d) => `${d} days after the move completes`,
  safetyCopy: ' (a safety copy until then).',
  rights: 'Your rights',
  objectRight: 'Object',
  objectRightText: ' (below), until the tenancy freezes. Your personal data then stays out of the move, your membership of this tenancy ends when it moves, and you receive a machine-readable copy of your data (',
  yourExports: 'your data exports',
  byMail: ', announced by e-mail).',
  seeRight: 'See, correct, download or erase',
  seeRightText: ' your data at any time: ',
  yourData: 'your data',
  complainRight: 'Complain',
  complainText: ' to the supervisory authority: ',
  afterMoveAlso: '; after the move, also ',
  whereYouLive: '. You may also complain where you live or work.',
  authorityOf: (c) => `the data-protection authority of ${c}`,
  ask: 'Whom to ask',
  askMove: (src) => `About the move, or to withdraw an objection: ${src}, `,
  askAfter: (to) => `. About what happens to your data afterwards: ${to}, `,
  answer: 'Your answer',
  objectedOwner: 'You objected as the owner: the transfer is stopped.',
  objectedMember: 'You objected: your personal data stays out of the move and you receive an export of it instead.',
  exportAppears: ' It appears under your data exports when the tenancy moves.',
  agreeHeading: 'Agree to the move',
  agreeText: 'Your data moves with the tenancy as described above. You need not answer: without an objection the move goes ahead.',
  consentButton: 'I consent',
  objectHeading: 'Object to the move',
  objectText: "Keep your personal data out of the move and receive a copy of it instead (the owner's objection stops the transfer). You are asked to confirm first.",
  objectButton: 'I object',
  closed: (st) => `Answers are no longer taken: the transfer is ${st}.`,
  confirmTitle: 'Confirm your objection',
  confirmHeading: 'Object to this transfer?',
  whatFollows: 'What follows',
  followsOwner: ["You are the tenancy's owner: the transfer stops for everyone, and the tenancy stays where it is.", 'A new transfer would need a new notice.'],
  followsMember: [
    'The tenancy still moves, but your personal data stays out of the move: your membership of this tenancy ends when it moves.',
    'You receive a machine-readable copy (JSON) of your data in this tenancy, on your data exports page and by e-mail.',
    'Your account stays with your current co-op.',
  ],
  noWithdraw: 'You cannot withdraw an objection on this page; to withdraw it, write to the current host (see the transfer page).',
  yesObject: 'Yes, I object',
  goBack: 'No, go back',
};

const fr: NoticeText = {
  title: (t) => `${t} déménage`,
  heading: (t, to) => `${t} déménage chez ${to}`,
  intro: (src, state) => `${src} héberge cet espace aujourd'hui. Le transfert est à l'état « ${state} »`,
  takesEffectShort: '; il prend effet au plus tôt le ',
  introEnd: '. Voici ce que vous devez savoir avant que vos données ne soient déplacées, et votre réponse.',
  objectionRecorded: 'Votre opposition est enregistrée.',
  consentRecorded: 'Votre consentement est enregistré.',
  stoppedWhy: 'Pourquoi le transfert a été arrêté',
  newHost: 'Le nouvel hébergeur',
  legalName: 'Dénomination légale',
  country: 'Pays',
  storedIn: 'Où vos données seront stockées',
  contact: 'Contact',
  legalBasis: 'Le fondement juridique du transfert',
  heldToday: (src, c, v) => `Vos données sont aujourd'hui détenues par ${src} (${c}). Le transfert est licite sur ce fondement, selon le registre des juridictions (version ${v}) :`,
  domestic: (c, r) => `${c} : dans l'espace du ${r}; aucune garantie de transfert n'est requise.`,
  adequacy: (c, ref, r) => `${c} : décision d'adéquation ${ref} (${r}).`,
  dpf: (l) => ` Elle couvre les organisations inscrites au Data Privacy Framework${l ? '; le nouvel hébergeur y est inscrit.' : '.'}`,
  pipeda: (p) => ` Elle couvre les organisations assujetties à la LPRPDE${p ? '; le nouvel hébergeur l\'est.' : '.'}`,
  unknownRegime: (c, cl) => `${c} : l'hébergeur actuel ne relève d'aucun régime connu du registre; il s'appuie sur ${cl}.`,
  noAdequacy: (c, cl) => `${c} : aucune décision d'adéquation; le transfert s'appuie sur ${cl}`,
  signed: (h) => `, signées (document SHA-256 ${h})`,
  claimed: {
    domestic: "aucun transfert à l'étranger : la même loi sur la protection des données s'applique chez le nouvel hébergeur",
    adequacy: "une décision d'adéquation",
    sccs: 'des clauses contractuelles types (RGPD art. 46(2)(c); Royaume-Uni : International Data Transfer Addendum)',
    art49: 'une dérogation pour une situation particulière (RGPD art. 49)',
  },
  whatMoves: 'Ce qui est transféré, et ce qui ne l\'est pas',
  movesTo: (to) => `Transféré chez ${to}`,
  movesTenancy: (t, n) => `L'espace ${t} : ses paramètres et ${s(n, 'salle', 'salles')}.`,
  movesRecordings: (n) => `${s(n, 'enregistrement', 'enregistrements')} (vidéo, audio, diapositives, clavardage), avec leurs liens de lecture mis à jour.`,
  movesMembers: "La liste des membres : votre nom, votre adresse courriel et votre rôle, sauf si vous vous y opposez. Un compte qui n'appartient qu'à cet espace est transféré avec lui.",
  yourRooms: 'Vos salles Greenlight sont transférées aussi, avec leurs réglages et partages; après le transfert, leurs liens sont :',
  yourRoomsStay: 'Vous vous y êtes opposé·e : vos salles Greenlight restent où elles sont.',
  roomRecordings: (n) => `(${s(n, 'enregistrement', 'enregistrements')})`,
  doesNotMove: "N'est pas transféré",
  notRetention: (d) => `Les enregistrements plus anciens que la durée de conservation de l'espace (${d} jours) : ils sont supprimés, pas copiés.`,
  notObjectors: (src) => `Les données personnelles des membres qui s'y opposent : elles restent chez ${src}, et ils en reçoivent une copie.`,
  notAccount: (src) => `Votre compte, si vous appartenez aussi à d'autres espaces de ${src}, et la trace de ce transfert dans le journal d'audit (qui ne vous désigne que par un pseudonyme).`,
  timeline: 'Calendrier',
  announced: 'Annoncé',
  notYet: 'pas encore',
  takesEffect: "Prise d'effet (l'espace est gelé)",
  notBefore: 'au plus tôt le ',
  notAnnounced: 'pas encore annoncée',
  frozenMeaning: (m) => `. Aucune nouvelle réunion ne peut commencer pendant le gel; les réunions en cours ont ${m} minutes pour se terminer. La copie prend en général de quelques minutes à quelques heures.`,
  sourceDeleted: (src) => `Copie chez ${src} supprimée`,
  deletedAt: 'supprimée le ',
  deletedOn: 'le ',
  deletedAfter: (d) => `${d} jours après la fin du transfert`,
  safetyCopy: " (copie de sécurité jusque-là).",
  rights: 'Vos droits',
  objectRight: "Vous opposer",
  objectRightText: " (ci-dessous), jusqu'au gel de l'espace. Vos données personnelles restent alors hors du transfert, votre appartenance à cet espace prend fin au transfert, et vous recevez une copie de vos données dans un format lisible par machine (",
  yourExports: 'vos exportations de données',
  byMail: ', annoncée par courriel).',
  seeRight: 'Consulter, rectifier, télécharger ou effacer',
  seeRightText: ' vos données à tout moment : ',
  yourData: 'vos données',
  complainRight: 'Porter plainte',
  complainText: " auprès de l'autorité de contrôle : ",
  afterMoveAlso: '; après le transfert, aussi ',
  whereYouLive: '. Vous pouvez aussi porter plainte là où vous vivez ou travaillez.',
  authorityOf: (c) => `l'autorité de protection des données de ${c}`,
  ask: 'À qui vous adresser',
  askMove: (src) => `Pour le transfert, ou pour retirer une opposition : ${src}, `,
  askAfter: (to) => `. Pour ce qu'il advient de vos données ensuite : ${to}, `,
  answer: 'Votre réponse',
  objectedOwner: "Vous vous êtes opposé en tant que propriétaire : le transfert est arrêté.",
  objectedMember: 'Vous vous êtes opposé : vos données personnelles restent hors du transfert et vous en recevez une exportation.',
  exportAppears: " Elle apparaîtra dans vos exportations de données lors du transfert.",
  agreeHeading: 'Accepter le transfert',
  agreeText: "Vos données sont transférées avec l'espace comme décrit ci-dessus. Vous n'êtes pas obligé de répondre : sans opposition, le transfert a lieu.",
  consentButton: "J'accepte",
  objectHeading: "S'opposer au transfert",
  objectText: "Garder vos données personnelles hors du transfert et en recevoir une copie (l'opposition du propriétaire arrête le transfert). Une confirmation vous sera demandée.",
  objectButton: "Je m'oppose",
  closed: (st) => `Les réponses ne sont plus acceptées : le transfert est à l'état « ${st} ».`,
  confirmTitle: 'Confirmer votre opposition',
  confirmHeading: "Vous opposer à ce transfert?",
  whatFollows: 'Ce qui suivra',
  followsOwner: ["Vous êtes le propriétaire de l'espace : le transfert s'arrête pour tout le monde et l'espace reste où il est.", 'Un nouveau transfert exigerait un nouvel avis.'],
  followsMember: [
    "L'espace est quand même transféré, mais vos données personnelles restent hors du transfert : votre appartenance à cet espace prend fin au transfert.",
    'Vous recevez une copie de vos données dans cet espace (JSON, lisible par machine), sur la page de vos exportations et par courriel.',
    'Votre compte reste chez votre coopérative actuelle.',
  ],
  noWithdraw: "Vous ne pouvez pas retirer une opposition sur cette page; pour la retirer, écrivez à l'hébergeur actuel (voir la page du transfert).",
  yesObject: "Oui, je m'oppose",
  goBack: 'Non, revenir',
};

const de: NoticeText = {
  title: (t) => `${t} zieht um`,
  heading: (t, to) => `${t} zieht zu ${to} um`,
  intro: (src, state) => `${src} betreibt diesen Bereich heute. Der Umzug ist im Zustand „${state}“`,
  takesEffectShort: '; er wird frühestens wirksam am ',
  introEnd: '. Hier steht, was Sie wissen sollten, bevor Ihre Daten umziehen, und Ihre Antwort.',
  objectionRecorded: 'Ihr Widerspruch ist erfasst.',
  consentRecorded: 'Ihre Zustimmung ist erfasst.',
  stoppedWhy: 'Warum der Umzug gestoppt wurde',
  newHost: 'Der neue Betreiber',
  legalName: 'Rechtlicher Name',
  country: 'Land',
  storedIn: 'Wo Ihre Daten gespeichert werden',
  contact: 'Kontakt',
  legalBasis: 'Die Rechtsgrundlage des Umzugs',
  heldToday: (src, c, v) => `Ihre Daten liegen heute bei ${src} (${c}). Der Umzug ist auf dieser Grundlage zulässig, laut Länderverzeichnis (Version ${v}):`,
  domestic: (c, r) => `${c}: innerhalb des Geltungsbereichs der ${r}; keine Übermittlungsgarantie nötig.`,
  adequacy: (c, ref, r) => `${c}: Angemessenheitsbeschluss ${ref} (${r}).`,
  dpf: (l) => ` Er gilt für Organisationen, die unter dem Data Privacy Framework gelistet sind${l ? '; der neue Betreiber ist gelistet.' : '.'}`,
  pipeda: (p) => ` Er gilt für Organisationen, die dem PIPEDA unterliegen${p ? '; der neue Betreiber tut das.' : '.'}`,
  unknownRegime: (c, cl) => `${c}: der jetzige Betreiber unterliegt keinem dem Verzeichnis bekannten Recht; er stützt sich auf ${cl}.`,
  noAdequacy: (c, cl) => `${c}: kein Angemessenheitsbeschluss; der Umzug stützt sich auf ${cl}`,
  signed: (h) => `, unterzeichnet (Dokument SHA-256 ${h})`,
  claimed: {
    domestic: 'keine Übermittlung ins Ausland: beim neuen Betreiber gilt dasselbe Datenschutzrecht',
    adequacy: 'einen Angemessenheitsbeschluss',
    sccs: 'Standardvertragsklauseln (DSGVO Art. 46 Abs. 2 lit. c; Vereinigtes Königreich: International Data Transfer Addendum)',
    art49: 'eine Ausnahme für bestimmte Fälle (DSGVO Art. 49)',
  },
  whatMoves: 'Was umzieht und was nicht',
  movesTo: (to) => `Zieht zu ${to} um`,
  movesTenancy: (t, n) => `Der Bereich ${t}: seine Einstellungen und ${s(n, 'Raum', 'Räume')}.`,
  movesRecordings: (n) => `${s(n, 'Aufzeichnung', 'Aufzeichnungen')} (Video, Audio, Folien, Chat), mit angepassten Wiedergabelinks.`,
  movesMembers: 'Die Mitgliederliste: Ihr Name, Ihre E-Mail-Adresse und Ihre Rolle, außer Sie widersprechen. Ein Konto, das nur zu diesem Bereich gehört, zieht mit ihm um.',
  yourRooms: 'Ihre Greenlight-Räume ziehen mit um, mit ihren Einstellungen und Freigaben; nach dem Umzug lauten ihre Links:',
  yourRoomsStay: 'Sie haben widersprochen: Ihre Greenlight-Räume bleiben, wo sie sind.',
  roomRecordings: (n) => `(${s(n, 'Aufzeichnung', 'Aufzeichnungen')})`,
  doesNotMove: 'Zieht nicht um',
  notRetention: (d) => `Aufzeichnungen, die älter als die Aufbewahrungsfrist des Bereichs (${d} Tage) sind: sie werden gelöscht, nicht kopiert.`,
  notObjectors: (src) => `Die personenbezogenen Daten von Mitgliedern, die widersprechen: sie bleiben bei ${src}, und diese erhalten eine Kopie davon.`,
  notAccount: (src) => `Ihr Konto, wenn Sie auch zu anderen Bereichen von ${src} gehören, und der Eintrag dieses Umzugs im Prüfprotokoll (der Sie nur unter einem Pseudonym nennt).`,
  timeline: 'Zeitplan',
  announced: 'Angekündigt',
  notYet: 'noch nicht',
  takesEffect: 'Wirksam (der Bereich wird eingefroren)',
  notBefore: 'frühestens am ',
  notAnnounced: 'noch nicht angekündigt',
  frozenMeaning: (m) => `. Solange er eingefroren ist, kann keine neue Konferenz beginnen; laufende Konferenzen haben ${m} Minuten Zeit zu enden. Das Kopieren dauert meist Minuten bis Stunden.`,
  sourceDeleted: (src) => `Kopie bei ${src} gelöscht`,
  deletedAt: 'gelöscht am ',
  deletedOn: 'am ',
  deletedAfter: (d) => `${d} Tage nach Abschluss des Umzugs`,
  safetyCopy: ' (bis dahin als Sicherheitskopie).',
  rights: 'Ihre Rechte',
  objectRight: 'Widersprechen',
  objectRightText: ' (unten), bis der Bereich eingefroren wird. Ihre personenbezogenen Daten bleiben dann außen vor, Ihre Mitgliedschaft in diesem Bereich endet mit dem Umzug, und Sie erhalten eine maschinenlesbare Kopie Ihrer Daten (',
  yourExports: 'Ihre Datenexporte',
  byMail: ', per E-Mail angekündigt).',
  seeRight: 'Einsehen, berichtigen, herunterladen oder löschen',
  seeRightText: ' können Sie Ihre Daten jederzeit: ',
  yourData: 'Ihre Daten',
  complainRight: 'Beschwerde einlegen',
  complainText: ' bei der Aufsichtsbehörde: ',
  afterMoveAlso: '; nach dem Umzug auch ',
  whereYouLive: '. Sie können sich auch dort beschweren, wo Sie wohnen oder arbeiten.',
  authorityOf: (c) => `die Datenschutzaufsichtsbehörde von ${c}`,
  ask: 'Ansprechpartner',
  askMove: (src) => `Zum Umzug, oder um einen Widerspruch zurückzunehmen: ${src}, `,
  askAfter: (to) => `. Dazu, was danach mit Ihren Daten geschieht: ${to}, `,
  answer: 'Ihre Antwort',
  objectedOwner: 'Sie haben als Eigentümer widersprochen: der Umzug ist gestoppt.',
  objectedMember: 'Sie haben widersprochen: Ihre personenbezogenen Daten bleiben außen vor, und Sie erhalten stattdessen einen Export davon.',
  exportAppears: ' Er erscheint beim Umzug unter Ihren Datenexporten.',
  agreeHeading: 'Dem Umzug zustimmen',
  agreeText: 'Ihre Daten ziehen wie oben beschrieben mit dem Bereich um. Sie müssen nicht antworten: ohne Widerspruch findet der Umzug statt.',
  consentButton: 'Ich stimme zu',
  objectHeading: 'Dem Umzug widersprechen',
  objectText: 'Ihre personenbezogenen Daten aus dem Umzug heraushalten und stattdessen eine Kopie erhalten (der Widerspruch des Eigentümers stoppt den Umzug). Sie werden zuerst um Bestätigung gebeten.',
  objectButton: 'Ich widerspreche',
  closed: (st) => `Antworten werden nicht mehr angenommen: der Umzug ist im Zustand „${st}“.`,
  confirmTitle: 'Widerspruch bestätigen',
  confirmHeading: 'Diesem Umzug widersprechen?',
  whatFollows: 'Was dann geschieht',
  followsOwner: ['Sie sind Eigentümer des Bereichs: der Umzug stoppt für alle, und der Bereich bleibt, wo er ist.', 'Ein neuer Umzug bräuchte eine neue Ankündigung.'],
  followsMember: [
    'Der Bereich zieht trotzdem um, aber Ihre personenbezogenen Daten bleiben außen vor: Ihre Mitgliedschaft in diesem Bereich endet mit dem Umzug.',
    'Sie erhalten eine maschinenlesbare Kopie (JSON) Ihrer Daten in diesem Bereich, auf der Seite Ihrer Datenexporte und per E-Mail.',
    'Ihr Konto bleibt bei Ihrer jetzigen Genossenschaft.',
  ],
  noWithdraw: 'Auf dieser Seite können Sie einen Widerspruch nicht zurücknehmen; schreiben Sie dazu dem jetzigen Betreiber (siehe die Seite des Umzugs).',
  yesObject: 'Ja, ich widerspreche',
  goBack: 'Nein, zurück',
};

export const NOTICE_TEXT: Record<Lang, NoticeText> = { en, fr, de };
