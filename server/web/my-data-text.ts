// The words of the member's data pages (/me/data: download, erasure and its
// receipt) in English, French and German (chosen by ./page-language.ts).
// The receipt's JSON stays as it is: it is the record, not the page.
import type { Lang } from './i18n.js';

export interface MyDataText {
  title: string;
  downloadHeading: string;
  downloadText: string;
  downloadButton: string;
  eraseHeading: string;
  eraseText: string;
  eraseLink: string;
  backToPage: string;
  backToData: string;
  confirmText: [string, string];
  kept: string;
  understand: string;
  eraseButton: string;
  cancel: string;
  tickTheBox: string;
  erasedTitle: string;
  erasedHeading: string;
  erasedOn: string;
  keepReceipt: string;
  whatDeleted: string;
  nameAndEmail: string;
  tombstone: string;
  rolesRevoked: string;
  membershipsEnded: string;
  pseudonymKey: string;
  destroyed: string;
  noneThere: string;
  refused: string;
  notYourForm: string;
  notYet: string;
  onlyOwner: (slugs: string[]) => string;
  lastAdmin: string;
}

const en: MyDataText = {
  title: 'Your data',
  downloadHeading: 'Download your data',
  downloadText:
    'A copy of everything meetplane holds about you, in one machine-readable file (JSON): your account, how you log in, your tenancies and roles, your tokens (not the tokens themselves), invitations, what transfers recorded about you, mails sent to you, and the audit log entries made by or about you.',
  downloadButton: 'Download my data',
  eraseHeading: 'Erase your account',
  eraseText: 'Deletes your name, e-mail address, password, co-op log-in links, tokens, invitations and exports for good, and ends your roles and memberships. It cannot be undone.',
  eraseLink: 'Erase my account…',
  backToPage: 'Back to your page',
  backToData: 'Back to your data',
  confirmText: [
    'This erases the account ',
    ' for good: your name, e-mail address, password, co-op log-in links, access tokens, invitations and exports are deleted, your roles and memberships end, and the audit log can no longer be linked to you. You are signed out everywhere. It cannot be undone.',
  ],
  kept: "Kept: the account's id with the date it was created and erased, because records of transfers and roles refer to it; they hold nothing that names you.",
  understand: 'I understand that my account is erased for good',
  eraseButton: 'Erase my account',
  cancel: 'Cancel',
  tickTheBox: 'Tick the box to confirm that your account is erased for good.',
  erasedTitle: 'Account erased',
  erasedHeading: 'Your account is erased',
  erasedOn: 'Erased on ',
  keepReceipt: '. This is your receipt: keep it, nothing here can show it to you again.',
  whatDeleted: 'What was deleted',
  nameAndEmail: 'Name and e-mail address',
  tombstone: 'replaced by a tombstone',
  rolesRevoked: 'Roles revoked',
  membershipsEnded: 'Memberships ended',
  pseudonymKey: 'Audit log pseudonym key',
  destroyed: 'destroyed',
  noneThere: 'there was none',
  refused: 'Refused',
  notYourForm: 'This form did not come from your session here. Reload the page and try again.',
  notYet: 'Not possible yet',
  onlyOwner: (s) => `Erasure is refused: this account is the only owner of ${s.join(', ')}. Make someone else an owner of ${s.length === 1 ? 'it' : 'them'} first, or delete ${s.length === 1 ? 'it' : 'them'}.`,
  lastAdmin: 'Erasure is refused: this account is the last platform admin, and nobody could run the platform afterwards. Make another account platform admin first.',
};

const fr: MyDataText = {
  title: 'Vos données',
  downloadHeading: 'Télécharger vos données',
  downloadText:
    "Une copie de tout ce que meetplane détient à votre sujet, dans un seul fichier lisible par machine (JSON) : votre compte, votre façon de vous connecter, vos espaces et vos rôles, vos jetons (pas les jetons eux-mêmes), les invitations, ce que les transferts ont enregistré à votre sujet, les courriels qui vous ont été envoyés et les entrées du journal d'audit faites par vous ou à votre sujet.",
  downloadButton: 'Télécharger mes données',
  eraseHeading: 'Effacer votre compte',
  eraseText: 'Supprime définitivement votre nom, votre adresse courriel, votre mot de passe, vos liens de connexion par coopérative, vos jetons, vos invitations et vos exportations, et met fin à vos rôles et à vos adhésions. Impossible de revenir en arrière.',
  eraseLink: 'Effacer mon compte…',
  backToPage: 'Retour à votre page',
  backToData: 'Retour à vos données',
  confirmText: [
    'Cela efface définitivement le compte ',
    " : votre nom, votre adresse courriel, votre mot de passe, vos liens de connexion par coopérative, vos jetons d'accès, vos invitations et vos exportations sont supprimés, vos rôles et vos adhésions prennent fin, et le journal d'audit ne peut plus être relié à vous. Vous êtes déconnecté partout. Impossible de revenir en arrière.",
  ],
  kept: "Conservé : l'identifiant du compte avec ses dates de création et d'effacement, car les traces des transferts et des rôles y renvoient; elles ne contiennent rien qui vous nomme.",
  understand: 'Je comprends que mon compte est effacé définitivement',
  eraseButton: 'Effacer mon compte',
  cancel: 'Annuler',
  tickTheBox: 'Cochez la case pour confirmer que votre compte est effacé définitivement.',
  erasedTitle: 'Compte effacé',
  erasedHeading: 'Votre compte est effacé',
  erasedOn: 'Effacé le ',
  keepReceipt: ". Voici votre reçu : conservez-le, rien ici ne pourra vous le montrer de nouveau.",
  whatDeleted: 'Ce qui a été supprimé',
  nameAndEmail: 'Nom et adresse courriel',
  tombstone: 'remplacés par une mention « effacé »',
  rolesRevoked: 'Rôles retirés',
  membershipsEnded: 'Adhésions terminées',
  pseudonymKey: "Clé de pseudonymisation du journal d'audit",
  destroyed: 'détruite',
  noneThere: "il n'y en avait pas",
  refused: 'Refusé',
  notYourForm: 'Ce formulaire ne vient pas de votre session ici. Rechargez la page et réessayez.',
  notYet: 'Pas encore possible',
  onlyOwner: (s) => `L'effacement est refusé : ce compte est le seul propriétaire de ${s.join(', ')}. Nommez d'abord une autre personne propriétaire, ou supprimez ${s.length === 1 ? 'cet espace' : 'ces espaces'}.`,
  lastAdmin: "L'effacement est refusé : ce compte est le dernier administrateur de la plateforme, et personne ne pourrait plus la gérer ensuite. Nommez d'abord un autre compte administrateur de la plateforme.",
};

const de: MyDataText = {
  title: 'Ihre Daten',
  downloadHeading: 'Ihre Daten herunterladen',
  downloadText:
    'Eine Kopie von allem, was meetplane über Sie speichert, in einer maschinenlesbaren Datei (JSON): Ihr Konto, wie Sie sich anmelden, Ihre Bereiche und Rollen, Ihre Tokens (nicht die Tokens selbst), Einladungen, was Umzüge über Sie festgehalten haben, E-Mails an Sie und die Einträge im Prüfprotokoll, die von Ihnen oder über Sie gemacht wurden.',
  downloadButton: 'Meine Daten herunterladen',
  eraseHeading: 'Ihr Konto löschen',
  eraseText: 'Löscht Ihren Namen, Ihre E-Mail-Adresse, Ihr Passwort, die Anmeldeverknüpfungen Ihrer Genossenschaft, Tokens, Einladungen und Exporte endgültig und beendet Ihre Rollen und Mitgliedschaften. Das lässt sich nicht rückgängig machen.',
  eraseLink: 'Mein Konto löschen…',
  backToPage: 'Zurück zu Ihrer Seite',
  backToData: 'Zurück zu Ihren Daten',
  confirmText: [
    'Damit wird das Konto ',
    ' endgültig gelöscht: Ihr Name, Ihre E-Mail-Adresse, Ihr Passwort, die Anmeldeverknüpfungen Ihrer Genossenschaft, Zugriffstokens, Einladungen und Exporte werden gelöscht, Ihre Rollen und Mitgliedschaften enden, und das Prüfprotokoll lässt sich nicht mehr mit Ihnen verbinden. Sie werden überall abgemeldet. Das lässt sich nicht rückgängig machen.',
  ],
  kept: 'Aufbewahrt: die ID des Kontos mit dem Datum seiner Erstellung und Löschung, weil Aufzeichnungen über Umzüge und Rollen darauf verweisen; sie enthalten nichts, was Sie nennt.',
  understand: 'Ich verstehe, dass mein Konto endgültig gelöscht wird',
  eraseButton: 'Mein Konto löschen',
  cancel: 'Abbrechen',
  tickTheBox: 'Setzen Sie das Häkchen, um zu bestätigen, dass Ihr Konto endgültig gelöscht wird.',
  erasedTitle: 'Konto gelöscht',
  erasedHeading: 'Ihr Konto ist gelöscht',
  erasedOn: 'Gelöscht am ',
  keepReceipt: '. Das ist Ihre Quittung: bewahren Sie sie auf, hier kann sie Ihnen niemand mehr zeigen.',
  whatDeleted: 'Was gelöscht wurde',
  nameAndEmail: 'Name und E-Mail-Adresse',
  tombstone: 'durch einen Platzhalter ersetzt',
  rolesRevoked: 'Entzogene Rollen',
  membershipsEnded: 'Beendete Mitgliedschaften',
  pseudonymKey: 'Pseudonymschlüssel des Prüfprotokolls',
  destroyed: 'vernichtet',
  noneThere: 'es gab keinen',
  refused: 'Abgelehnt',
  notYourForm: 'Dieses Formular kam nicht aus Ihrer Sitzung hier. Laden Sie die Seite neu und versuchen Sie es noch einmal.',
  notYet: 'Noch nicht möglich',
  onlyOwner: (s) => `Löschen abgelehnt: dieses Konto ist der einzige Eigentümer von ${s.join(', ')}. Machen Sie zuerst jemand anderen zum Eigentümer, oder löschen Sie ${s.length === 1 ? 'diesen Bereich' : 'diese Bereiche'}.`,
  lastAdmin: 'Löschen abgelehnt: dieses Konto ist die letzte Plattformverwaltung, und niemand könnte die Plattform danach betreiben. Machen Sie zuerst ein anderes Konto zur Plattformverwaltung.',
};

export const MY_DATA_TEXT: Record<Lang, MyDataText> = { en, fr, de };
