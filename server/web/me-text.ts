// The words of the member's own page (/me), its language form, the answers
// to an invitation and the sign-in problem and logged-out pages, in English,
// French and German (chosen by ./page-language.ts).
import type { Lang } from './i18n.js';

const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;

export interface MeText {
  title: string;
  logOut: string;
  name: string;
  email: string;
  verified: string;
  notVerified: string;
  homeCoop: string;
  none: string;
  roles: Record<string, string>;
  transferStates: Record<string, string>;
  hostedBy: (coop: string) => string;
  yourRole: string;
  movingTo: (target: string, state: string) => string;
  takesEffect: string;
  dateNotAnnounced: string;
  transferLink: string;
  rooms: (k: number) => string;
  latestUsed: string;
  recordings: (k: number) => string;
  latest: string;
  notPublished: string;
  yourTenancies: string;
  noTenancy: string;
  noExports: string;
  yourExports: string;
  exportOf: (date: string) => string;
  theTransfer: string;
  invitations: string;
  noInvitations: string;
  invitesYou: (coop: string) => string;
  invitesAs: (role: string) => string;
  openUntil: string;
  acceptSees: string;
  accept: string;
  decline: string;
  acceptLabel: (tenancy: string) => string;
  declineLabel: (tenancy: string) => string;
  yourData: string;
  dataLink: string;
  platformRoles: string;
  everywhere: string;
  auditLog: string;
  languageLabel: string;
  browsers: string;
  save: string;
  chooseLanguage: string;
  notYourForm: string;
  signInProblem: string;
  signIn: string;
  signInTooLong: string;
  signInCancelled: string;
  signInFailed: string;
  logOutNotYours: string;
  loggedOutTitle: string;
  loggedOut: string;
  signInAgain: string;
  refused: string;
  notFound: string;
  notPossible: string;
  chooseAnswer: string;
  noSuchInvitation: string;
  /** `state`: accepted, declined, revoked or expired. */
  invitationClosed: (state: string) => string;
  backToPage: string;
}

const en: MeText = {
  title: 'Your account',
  logOut: 'Log out',
  name: 'Name',
  email: 'E-mail address',
  verified: '(verified)',
  notVerified: '(not verified)',
  homeCoop: 'Home co-op',
  none: 'none',
  roles: { owner: 'Owner', admin: 'Admin', member: 'Member', platform_admin: 'Platform admin' },
  transferStates: {
    draft: 'being prepared',
    checked: 'being prepared',
    approved: 'approved',
    notice: 'announced',
    frozen: 'under way (frozen)',
    copying: 'under way (copying)',
    verifying: 'under way (verifying)',
    switching: 'under way (switching)',
  },
  hostedBy: (c) => `Hosted by ${c}`,
  yourRole: 'your role: ',
  movingTo: (t, st) => `Moving to ${t}: the transfer is ${st}`,
  takesEffect: '; it takes effect (the tenancy freezes) not before ',
  dateNotAnnounced: '; the date is not announced yet',
  transferLink: 'What moves, your rights and your answer',
  rooms: (k) => n(k, 'room', 'rooms'),
  latestUsed: ', latest used:',
  recordings: (k) => n(k, 'recording', 'recordings'),
  latest: ', latest:',
  notPublished: ' (not published)',
  yourTenancies: 'Your tenancies',
  noTenancy: 'You do not belong to any tenancy yet.',
  noExports: 'You have no data exports. One is made for you when you object to the transfer of a tenancy and it moves without your data.',
  yourExports: 'Your data exports',
  exportOf: (d) => `Export of ${d}`,
  theTransfer: 'the transfer',
  invitations: 'Invitations',
  noInvitations: 'No invitations are waiting for your answer.',
  invitesYou: (c) => `hosted by ${c}`,
  invitesAs: (r) => `invites you as ${r}`,
  openUntil: 'Open until ',
  acceptSees: 'If you accept, the people who manage this tenancy see your name and e-mail address in its member list.',
  accept: 'Accept',
  decline: 'Decline',
  acceptLabel: (t) => `Accept the invitation to ${t}`,
  declineLabel: (t) => `Decline the invitation to ${t}`,
  yourData: 'Your data',
  dataLink: 'Download your data, or erase your account',
  platformRoles: 'Platform roles',
  everywhere: '(everywhere)',
  auditLog: 'Audit log',
  languageLabel: 'Language of your pages and mails',
  browsers: "Your browser's",
  save: 'Save',
  chooseLanguage: "Choose English, Français, Deutsch or your browser's language.",
  notYourForm: 'This form did not come from your session here. Reload the page and try again.',
  signInProblem: 'Sign-in problem',
  signIn: 'Sign in',
  signInTooLong: 'Your sign-in took too long or did not start here. Start again.',
  signInCancelled: 'The sign-in was cancelled.',
  signInFailed: 'The sign-in did not succeed. Start again.',
  logOutNotYours: 'This log-out form did not come from your session here. Reload the page and try again.',
  loggedOutTitle: 'Logged out',
  loggedOut: 'You are logged out',
  signInAgain: 'Sign in again',
  refused: 'Refused',
  notFound: 'Not found',
  notPossible: 'Not possible',
  chooseAnswer: 'Choose to accept or to decline.',
  noSuchInvitation: 'There is no invitation of yours at this address.',
  invitationClosed: (st) => `This invitation is no longer open: the invitation is ${st}.`,
  backToPage: 'Back to your page',
};

const fr: MeText = {
  title: 'Votre compte',
  logOut: 'Se déconnecter',
  name: 'Nom',
  email: 'Adresse courriel',
  verified: '(vérifiée)',
  notVerified: '(non vérifiée)',
  homeCoop: "Coopérative d'attache",
  none: 'aucune',
  roles: { owner: 'Propriétaire', admin: 'Administrateur', member: 'Membre', platform_admin: 'Administrateur de la plateforme' },
  transferStates: {
    draft: 'en préparation',
    checked: 'en préparation',
    approved: 'approuvé',
    notice: 'annoncé',
    frozen: 'en cours (gelé)',
    copying: 'en cours (copie)',
    verifying: 'en cours (vérification)',
    switching: 'en cours (bascule)',
  },
  hostedBy: (c) => `Hébergé par ${c}`,
  yourRole: 'votre rôle : ',
  movingTo: (t, st) => `Déménage chez ${t} : le transfert est ${st}`,
  takesEffect: "; il prend effet (l'espace est gelé) au plus tôt le ",
  dateNotAnnounced: "; la date n'est pas encore annoncée",
  transferLink: 'Ce qui est transféré, vos droits et votre réponse',
  rooms: (k) => n(k, 'salle', 'salles'),
  latestUsed: ', dernières utilisées :',
  recordings: (k) => n(k, 'enregistrement', 'enregistrements'),
  latest: ', derniers :',
  notPublished: ' (non publié)',
  yourTenancies: 'Vos espaces',
  noTenancy: "Vous n'êtes encore membre d'aucun espace.",
  noExports: "Vous n'avez aucune exportation de données. Une exportation est faite pour vous quand vous vous opposez au transfert d'un espace et qu'il est transféré sans vos données.",
  yourExports: 'Vos exportations de données',
  exportOf: (d) => `Exportation du ${d}`,
  theTransfer: 'le transfert',
  invitations: 'Invitations',
  noInvitations: "Aucune invitation n'attend votre réponse.",
  invitesYou: (c) => `hébergé par ${c}`,
  invitesAs: (r) => `vous invite comme ${r}`,
  openUntil: "Ouverte jusqu'au ",
  acceptSees: "Si vous acceptez, les personnes qui gèrent cet espace voient votre nom et votre adresse courriel dans sa liste de membres.",
  accept: 'Accepter',
  decline: 'Refuser',
  acceptLabel: (t) => `Accepter l'invitation à ${t}`,
  declineLabel: (t) => `Refuser l'invitation à ${t}`,
  yourData: 'Vos données',
  dataLink: 'Télécharger vos données, ou effacer votre compte',
  platformRoles: 'Rôles sur la plateforme',
  everywhere: '(partout)',
  auditLog: "Journal d'audit",
  languageLabel: 'Langue de vos pages et courriels',
  browsers: 'Celle de votre navigateur',
  save: 'Enregistrer',
  chooseLanguage: 'Choisissez English, Français, Deutsch ou la langue de votre navigateur.',
  notYourForm: 'Ce formulaire ne vient pas de votre session ici. Rechargez la page et réessayez.',
  signInProblem: 'Problème de connexion',
  signIn: 'Se connecter',
  signInTooLong: "Votre connexion a pris trop de temps ou n'a pas commencé ici. Recommencez.",
  signInCancelled: 'La connexion a été annulée.',
  signInFailed: "La connexion n'a pas abouti. Recommencez.",
  logOutNotYours: 'Ce formulaire de déconnexion ne vient pas de votre session ici. Rechargez la page et réessayez.',
  loggedOutTitle: 'Déconnecté',
  loggedOut: 'Vous êtes déconnecté',
  signInAgain: 'Se reconnecter',
  refused: 'Refusé',
  notFound: 'Introuvable',
  notPossible: 'Impossible',
  chooseAnswer: "Choisissez d'accepter ou de refuser.",
  noSuchInvitation: "Aucune invitation à votre nom ne se trouve à cette adresse.",
  invitationClosed: (st) => `Cette invitation n'est plus ouverte : elle est ${({ accepted: 'acceptée', declined: 'refusée', revoked: 'retirée', expired: 'expirée' } as Record<string, string>)[st] ?? st}.`,
  backToPage: 'Retour à votre page',
};

const de: MeText = {
  title: 'Ihr Konto',
  logOut: 'Abmelden',
  name: 'Name',
  email: 'E-Mail-Adresse',
  verified: '(bestätigt)',
  notVerified: '(nicht bestätigt)',
  homeCoop: 'Heimatgenossenschaft',
  none: 'keine',
  roles: { owner: 'Eigentümer', admin: 'Verwaltung', member: 'Mitglied', platform_admin: 'Plattformverwaltung' },
  transferStates: {
    draft: 'in Vorbereitung',
    checked: 'in Vorbereitung',
    approved: 'genehmigt',
    notice: 'angekündigt',
    frozen: 'im Gang (eingefroren)',
    copying: 'im Gang (Kopieren)',
    verifying: 'im Gang (Prüfen)',
    switching: 'im Gang (Umschalten)',
  },
  hostedBy: (c) => `Betrieben von ${c}`,
  yourRole: 'Ihre Rolle: ',
  movingTo: (t, st) => `Zieht zu ${t} um: der Umzug ist ${st}`,
  takesEffect: '; er wird frühestens wirksam (der Bereich wird eingefroren) am ',
  dateNotAnnounced: '; das Datum ist noch nicht angekündigt',
  transferLink: 'Was umzieht, Ihre Rechte und Ihre Antwort',
  rooms: (k) => n(k, 'Raum', 'Räume'),
  latestUsed: ', zuletzt benutzt:',
  recordings: (k) => n(k, 'Aufzeichnung', 'Aufzeichnungen'),
  latest: ', die neuesten:',
  notPublished: ' (nicht veröffentlicht)',
  yourTenancies: 'Ihre Bereiche',
  noTenancy: 'Sie gehören noch zu keinem Bereich.',
  noExports: 'Sie haben keine Datenexporte. Einer wird für Sie erstellt, wenn Sie dem Umzug eines Bereichs widersprechen und er ohne Ihre Daten umzieht.',
  yourExports: 'Ihre Datenexporte',
  exportOf: (d) => `Export vom ${d}`,
  theTransfer: 'der Umzug',
  invitations: 'Einladungen',
  noInvitations: 'Keine Einladung wartet auf Ihre Antwort.',
  invitesYou: (c) => `betrieben von ${c}`,
  invitesAs: (r) => `lädt Sie ein als ${r}`,
  openUntil: 'Offen bis ',
  acceptSees: 'Wenn Sie annehmen, sehen die Leute, die diesen Bereich verwalten, Ihren Namen und Ihre E-Mail-Adresse in seiner Mitgliederliste.',
  accept: 'Annehmen',
  decline: 'Ablehnen',
  acceptLabel: (t) => `Die Einladung zu ${t} annehmen`,
  declineLabel: (t) => `Die Einladung zu ${t} ablehnen`,
  yourData: 'Ihre Daten',
  dataLink: 'Ihre Daten herunterladen oder Ihr Konto löschen',
  platformRoles: 'Rollen auf der Plattform',
  everywhere: '(überall)',
  auditLog: 'Prüfprotokoll',
  languageLabel: 'Sprache Ihrer Seiten und E-Mails',
  browsers: 'Die Ihres Browsers',
  save: 'Speichern',
  chooseLanguage: 'Wählen Sie English, Français, Deutsch oder die Sprache Ihres Browsers.',
  notYourForm: 'Dieses Formular kam nicht aus Ihrer Sitzung hier. Laden Sie die Seite neu und versuchen Sie es noch einmal.',
  signInProblem: 'Anmeldeproblem',
  signIn: 'Anmelden',
  signInTooLong: 'Ihre Anmeldung hat zu lange gedauert oder hat nicht hier begonnen. Beginnen Sie neu.',
  signInCancelled: 'Die Anmeldung wurde abgebrochen.',
  signInFailed: 'Die Anmeldung ist nicht gelungen. Beginnen Sie neu.',
  logOutNotYours: 'Dieses Abmeldeformular kam nicht aus Ihrer Sitzung hier. Laden Sie die Seite neu und versuchen Sie es noch einmal.',
  loggedOutTitle: 'Abgemeldet',
  loggedOut: 'Sie sind abgemeldet',
  signInAgain: 'Wieder anmelden',
  refused: 'Abgelehnt',
  notFound: 'Nicht gefunden',
  notPossible: 'Nicht möglich',
  chooseAnswer: 'Wählen Sie annehmen oder ablehnen.',
  noSuchInvitation: 'Unter dieser Adresse gibt es keine Einladung für Sie.',
  invitationClosed: (st) => `Diese Einladung ist nicht mehr offen: sie ist ${({ accepted: 'angenommen', declined: 'abgelehnt', revoked: 'zurückgezogen', expired: 'abgelaufen' } as Record<string, string>)[st] ?? st}.`,
  backToPage: 'Zurück zu Ihrer Seite',
};

export const ME_TEXT: Record<Lang, MeText> = { en, fr, de };
