// The words of the sign-on pages (log in, consent, log out, device, the
// invitation's password page and the error pages) in English, French and
// German; the language is chosen per request (pageLang in ./interactions.ts).
import type { Lang } from '../web/i18n.js';

/** Why a log-in through a co-op's own provider was refused (./upstream.ts). */
export type UpstreamRefusalReason = 'linkGone' | 'noEmail' | 'unverified' | 'cannotLink' | 'suspended' | 'untrustedKey';

/** An error page's title and message. */
export interface Problem {
  title: string;
  message: string;
}

export interface SignOnText {
  logIn: string;
  toContinue: string;
  email: string;
  password: string;
  orCoop: string;
  logInWith: (label: string) => string;
  enterBoth: string;
  locked: (minutes: number) => string;
  wrong: string;
  suspended: string;
  allowTitle: string;
  allowHeading: (client: string) => string;
  loggedInAs: string;
  clientAddress: string;
  asksTo: string;
  actFor: (resource: string) => string;
  willReceive: string;
  allow: string;
  deny: string;
  scopes: Record<string, string>;
  claims: Record<string, string>;
  requestId: string;
  logOutTitle: string;
  logOutHeading: string;
  endsSession: (host: string) => string;
  yesLogOut: string;
  stayLoggedIn: string;
  loggedOutTitle: string;
  loggedOutHeading: string;
  loggedOutOf: (client: string) => string;
  sessionEnded: string;
  deviceTitle: string;
  deviceHint: string;
  code: string;
  continue: string;
  cancel: string;
  codeInvalid: string;
  codeCancelled: string;
  codeFailed: string;
  yourDevice: string;
  confirmDeviceTitle: string;
  connectHeading: (client: string) => string;
  checkCode: string;
  onlyIfYou: string;
  deviceDoneTitle: string;
  deviceDone: (client: string) => string;
  passwordSetTitle: string;
  passwordSetHeading: string;
  canLogIn: (email: string) => string;
  setPasswordTitle: string;
  welcome: (name: string) => string;
  choosePassword: (email: string) => string;
  newPassword: string;
  repeatPassword: string;
  setPassword: string;
  notSame: string;
  passwordNot: string;
  tooShort: (n: number) => string;
  tooLong: (n: number) => string;
  hasEmailName: string;
  expired: Problem;
  refused: Problem;
  refusedLogin: Problem;
  unsupported: Problem;
  invitationGone: Problem;
  unknownUpstream: Problem;
  upstreamGone: Problem;
  upstreamUnreachable: (name: string) => Problem;
  upstreamNotTrusted: (name: string) => Problem;
  upstreamExpired: Problem;
  upstreamRefused: (why: string) => Problem;
  upstreamRefusals: Record<UpstreamRefusalReason, string>;
  upstreamFailed: (name: string) => Problem;
  tooManyCodes: (minutes: number) => Problem;
  signOnProblem: string;
  badRequest: (detail: string) => string;
  sessionGone: string;
  couldNotComplete: (detail: string) => string;
}

const en: SignOnText = {
  logIn: 'Log in',
  toContinue: 'to continue to ',
  email: 'E-mail address',
  password: 'Password',
  orCoop: 'Or log in through your co-op:',
  logInWith: (l) => `Log in with ${l}`,
  enterBoth: 'Enter your e-mail address and your password.',
  locked: (m) => `Too many failed attempts. Try again in ${m} minute(s).`,
  wrong: 'The e-mail address or the password is wrong.',
  suspended: 'This account is suspended: it cannot sign in. Ask the people who run your co-op.',
  allowTitle: 'Allow access',
  allowHeading: (c) => `Allow ${c} to use your account?`,
  loggedInAs: 'You are logged in as ',
  clientAddress: "The application's address: ",
  asksTo: 'It asks to',
  actFor: (r) => `act for you on ${r}`,
  willReceive: 'It will receive',
  allow: 'Allow',
  deny: 'Deny',
  scopes: {
    openid: 'know who you are (your meetplane account id)',
    email: 'see your e-mail address',
    profile: 'see your name',
    meetplane: 'see your co-op, your tenancies and your roles',
    offline_access: 'stay connected when you are not using it (refresh tokens)',
    api: 'use the meetplane API as you',
  },
  claims: {
    sub: 'your account id',
    email: 'your e-mail address',
    email_verified: 'whether your e-mail address is verified',
    name: 'your name',
    given_name: 'your given name',
    family_name: 'your family name',
    preferred_username: 'a user name (the part of your e-mail address before the @)',
    coop: 'your home co-op',
    roles: 'your roles and where they apply',
    groups: 'your co-op and the tenancies you belong to',
    meetplane: 'the tenancies you belong to and your role in each',
  },
  requestId: 'Request id: ',
  logOutTitle: 'Log out',
  logOutHeading: 'Log out of meetplane?',
  endsSession: (h) => `This ends your sign-on session at ${h}.`,
  yesLogOut: 'Yes, log me out',
  stayLoggedIn: 'No, stay logged in',
  loggedOutTitle: 'Logged out',
  loggedOutHeading: 'You are logged out',
  loggedOutOf: (c) => `You logged out of ${c} and of meetplane.`,
  sessionEnded: 'Your meetplane session has ended.',
  deviceTitle: 'Connect a device',
  deviceHint: 'Enter the code your device (for example the meetplane command) shows.',
  code: 'Code',
  continue: 'Continue',
  cancel: 'Cancel',
  codeInvalid: 'That code is not valid or has expired. Check the code on your device and try again.',
  codeCancelled: 'The log-in was cancelled.',
  codeFailed: 'Something went wrong; start again on your device.',
  yourDevice: 'Your device',
  confirmDeviceTitle: 'Confirm the device',
  connectHeading: (c) => `Connect ${c}?`,
  checkCode: 'Check that your device shows the code ',
  onlyIfYou: '. Continue only if you started this yourself.',
  deviceDoneTitle: 'Device connected',
  deviceDone: (c) => `${c} is now logged in. You can close this page and return to your device.`,
  passwordSetTitle: 'Password set',
  passwordSetHeading: 'Your password is set',
  canLogIn: (e) => `You can now log in to your co-op's services with ${e}.`,
  setPasswordTitle: 'Set your password',
  welcome: (n) => `Welcome, ${n}`,
  choosePassword: (e) => `Choose a password for ${e}. Use at least 12 characters; a few unrelated words work well.`,
  newPassword: 'New password',
  repeatPassword: 'Repeat the password',
  setPassword: 'Set password',
  notSame: 'The two passwords are not the same.',
  passwordNot: 'The password is not acceptable.',
  tooShort: (n) => `The password must be at least ${n} characters long.`,
  tooLong: (n) => `The password must be at most ${n} characters long.`,
  hasEmailName: 'The password must not contain your e-mail name.',
  expired: { title: 'Log-in expired', message: 'This log-in page is no longer valid (it expired or was already used). Go back to the application and start again.' },
  refused: { title: 'Request refused', message: 'The form did not come from this site. Reload the page and try again.' },
  refusedLogin: { title: 'Request refused', message: 'The form did not come from this site. Reload the log-in page and try again.' },
  unsupported: { title: 'Unsupported step', message: 'This sign-on step is not supported.' },
  invitationGone: { title: 'Invitation not valid', message: 'This invitation link is not valid: it expired or was used already. Ask your co-op admin for a new one.' },
  unknownUpstream: { title: 'Unknown co-op provider', message: 'This co-op log-in is not available. Go back and choose another way to log in.' },
  upstreamGone: { title: 'Unknown co-op provider', message: 'This co-op log-in is not available any more.' },
  upstreamNotTrusted: (n) => ({ title: 'Instance not trusted', message: `This instance does not trust ${n} any more (it is no longer a trusted peer or in a trusted federation). Log in with your password, or ask the people who run this instance.` }),
  upstreamUnreachable: (n) => ({ title: 'Co-op provider unreachable', message: `${n}'s log-in service does not answer. Try again later or log in with your password.` }),
  upstreamExpired: { title: 'Log-in expired', message: 'This co-op log-in is no longer valid. Go back to the application and start again.' },
  upstreamRefused: (why) => ({ title: 'Log-in refused', message: why }),
  upstreamRefusals: {
    linkGone: 'This account cannot be used through this co-op any more. Log in with your password.',
    noEmail: 'Your co-op did not share an e-mail address, so no account can be created.',
    unverified: 'An account with this e-mail address exists, but your co-op did not confirm the address is verified.',
    cannotLink: 'An account with this e-mail address exists and cannot be used through this co-op. Log in with your password.',
    suspended: 'This account is suspended: it cannot sign in. Ask the people who run your co-op.',
    untrustedKey: "The other instance's answer was not signed with a key the federation vouches for, so it cannot be trusted. Log in with your password, or ask the people who run this instance.",
  },
  upstreamFailed: (n) => ({ title: 'Co-op log-in failed', message: `The log-in through ${n} did not succeed. Try again or log in with your password.` }),
  tooManyCodes: (m) => ({ title: 'Too many attempts', message: `Too many wrong codes were entered from your network. Try again in ${m} minute(s).` }),
  signOnProblem: 'Sign-on problem',
  badRequest: (d) => `The application sent a request meetplane cannot accept (${d}).`,
  sessionGone: 'Your log-in took too long or was already completed. Go back to the application and start again.',
  couldNotComplete: (d) => `The sign-on could not complete (${d}).`,
};

const fr: SignOnText = {
  logIn: 'Se connecter',
  toContinue: 'pour continuer vers ',
  email: 'Adresse courriel',
  password: 'Mot de passe',
  orCoop: 'Ou connectez-vous par votre coopérative :',
  logInWith: (l) => `Se connecter avec ${l}`,
  enterBoth: 'Entrez votre adresse courriel et votre mot de passe.',
  locked: (m) => `Trop de tentatives échouées. Réessayez dans ${m} minute(s).`,
  wrong: "L'adresse courriel ou le mot de passe est erroné.",
  suspended: 'Ce compte est suspendu : il ne peut pas se connecter. Adressez-vous aux personnes qui gèrent votre coopérative.',
  allowTitle: "Autoriser l'accès",
  allowHeading: (c) => `Autoriser ${c} à utiliser votre compte?`,
  loggedInAs: 'Vous êtes connecté en tant que ',
  clientAddress: "Adresse de l'application : ",
  asksTo: 'Elle demande à',
  actFor: (r) => `agir en votre nom sur ${r}`,
  willReceive: 'Elle recevra',
  allow: 'Autoriser',
  deny: 'Refuser',
  scopes: {
    openid: 'savoir qui vous êtes (votre identifiant de compte meetplane)',
    email: 'voir votre adresse courriel',
    profile: 'voir votre nom',
    meetplane: 'voir votre coopérative, vos espaces et vos rôles',
    offline_access: "rester connectée quand vous ne l'utilisez pas (jetons de rafraîchissement)",
    api: "utiliser l'API meetplane en votre nom",
  },
  claims: {
    sub: 'votre identifiant de compte',
    email: 'votre adresse courriel',
    email_verified: 'si votre adresse courriel est vérifiée',
    name: 'votre nom',
    given_name: 'votre prénom',
    family_name: 'votre nom de famille',
    preferred_username: "un nom d'utilisateur (la partie de votre adresse courriel avant le @)",
    coop: "votre coopérative d'attache",
    roles: "vos rôles et où ils s'appliquent",
    groups: 'votre coopérative et les espaces dont vous êtes membre',
    meetplane: 'les espaces dont vous êtes membre et votre rôle dans chacun',
  },
  requestId: 'Identifiant de la requête : ',
  logOutTitle: 'Se déconnecter',
  logOutHeading: 'Vous déconnecter de meetplane?',
  endsSession: (h) => `Cela met fin à votre session d'authentification sur ${h}.`,
  yesLogOut: 'Oui, me déconnecter',
  stayLoggedIn: 'Non, rester connecté',
  loggedOutTitle: 'Déconnecté',
  loggedOutHeading: 'Vous êtes déconnecté',
  loggedOutOf: (c) => `Vous êtes déconnecté de ${c} et de meetplane.`,
  sessionEnded: 'Votre session meetplane est terminée.',
  deviceTitle: 'Connecter un appareil',
  deviceHint: "Entrez le code affiché par votre appareil (par exemple la commande meetplane).",
  code: 'Code',
  continue: 'Continuer',
  cancel: 'Annuler',
  codeInvalid: "Ce code n'est pas valide ou a expiré. Vérifiez le code sur votre appareil et réessayez.",
  codeCancelled: 'La connexion a été annulée.',
  codeFailed: "Une erreur s'est produite; recommencez sur votre appareil.",
  yourDevice: 'Votre appareil',
  confirmDeviceTitle: "Confirmer l'appareil",
  connectHeading: (c) => `Connecter ${c}?`,
  checkCode: 'Vérifiez que votre appareil affiche le code ',
  onlyIfYou: ". Ne continuez que si c'est vous qui avez commencé.",
  deviceDoneTitle: 'Appareil connecté',
  deviceDone: (c) => `${c} est maintenant connecté. Vous pouvez fermer cette page et revenir à votre appareil.`,
  passwordSetTitle: 'Mot de passe défini',
  passwordSetHeading: 'Votre mot de passe est défini',
  canLogIn: (e) => `Vous pouvez maintenant vous connecter aux services de votre coopérative avec ${e}.`,
  setPasswordTitle: 'Choisir votre mot de passe',
  welcome: (n) => `Bienvenue, ${n}`,
  choosePassword: (e) => `Choisissez un mot de passe pour ${e}. Utilisez au moins 12 caractères; quelques mots sans rapport entre eux font l'affaire.`,
  newPassword: 'Nouveau mot de passe',
  repeatPassword: 'Répétez le mot de passe',
  setPassword: 'Enregistrer le mot de passe',
  notSame: 'Les deux mots de passe ne sont pas identiques.',
  passwordNot: "Le mot de passe n'est pas acceptable.",
  tooShort: (n) => `Le mot de passe doit compter au moins ${n} caractères.`,
  tooLong: (n) => `Le mot de passe doit compter au plus ${n} caractères.`,
  hasEmailName: 'Le mot de passe ne doit pas contenir le nom de votre adresse courriel.',
  expired: { title: 'Connexion expirée', message: "Cette page de connexion n'est plus valide (elle a expiré ou a déjà servi). Retournez à l'application et recommencez." },
  refused: { title: 'Requête refusée', message: "Le formulaire ne vient pas de ce site. Rechargez la page et réessayez." },
  refusedLogin: { title: 'Requête refusée', message: 'Le formulaire ne vient pas de ce site. Rechargez la page de connexion et réessayez.' },
  unsupported: { title: 'Étape non prise en charge', message: "Cette étape d'authentification n'est pas prise en charge." },
  invitationGone: { title: 'Invitation non valide', message: "Ce lien d'invitation n'est pas valide : il a expiré ou a déjà servi. Demandez-en un nouveau à l'administrateur de votre coopérative." },
  unknownUpstream: { title: 'Fournisseur de coopérative inconnu', message: "Cette connexion par coopérative n'est pas disponible. Revenez en arrière et choisissez une autre façon de vous connecter." },
  upstreamGone: { title: 'Fournisseur de coopérative inconnu', message: "Cette connexion par coopérative n'est plus disponible." },
  upstreamNotTrusted: (n) => ({ title: 'Instance non reconnue', message: `Cette instance ne fait plus confiance à ${n} (ce n'est plus un pair de confiance ni un membre d'une fédération reconnue). Connectez-vous avec votre mot de passe, ou adressez-vous aux personnes qui gèrent cette instance.` }),
  upstreamUnreachable: (n) => ({ title: 'Fournisseur de coopérative injoignable', message: `Le service de connexion de ${n} ne répond pas. Réessayez plus tard ou connectez-vous avec votre mot de passe.` }),
  upstreamExpired: { title: 'Connexion expirée', message: "Cette connexion par coopérative n'est plus valide. Retournez à l'application et recommencez." },
  upstreamRefused: (why) => ({ title: 'Connexion refusée', message: why }),
  upstreamRefusals: {
    linkGone: "Ce compte ne peut plus être utilisé par cette coopérative. Connectez-vous avec votre mot de passe.",
    noEmail: "Votre coopérative n'a pas transmis d'adresse courriel; aucun compte ne peut donc être créé.",
    unverified: "Un compte existe avec cette adresse courriel, mais votre coopérative n'a pas confirmé que l'adresse est vérifiée.",
    cannotLink: 'Un compte existe avec cette adresse courriel et ne peut pas être utilisé par cette coopérative. Connectez-vous avec votre mot de passe.',
    suspended: 'Ce compte est suspendu : il ne peut pas se connecter. Adressez-vous aux personnes qui gèrent votre coopérative.',
    untrustedKey: "La réponse de l'autre instance n'est pas signée par une clé dont la fédération se porte garante : elle ne peut pas être acceptée. Connectez-vous avec votre mot de passe, ou adressez-vous aux personnes qui gèrent cette instance.",
  },
  upstreamFailed: (n) => ({ title: 'Échec de la connexion par coopérative', message: `La connexion par ${n} n'a pas abouti. Réessayez ou connectez-vous avec votre mot de passe.` }),
  tooManyCodes: (m) => ({ title: 'Trop de tentatives', message: `Trop de codes erronés ont été entrés depuis votre réseau. Réessayez dans ${m} minute(s).` }),
  signOnProblem: "Problème d'authentification",
  badRequest: (d) => `L'application a envoyé une requête que meetplane ne peut pas accepter (${d}).`,
  sessionGone: "Votre connexion a pris trop de temps ou est déjà terminée. Retournez à l'application et recommencez.",
  couldNotComplete: (d) => `L'authentification n'a pas pu aboutir (${d}).`,
};

const de: SignOnText = {
  logIn: 'Anmelden',
  toContinue: 'um weiterzugehen zu ',
  email: 'E-Mail-Adresse',
  password: 'Passwort',
  orCoop: 'Oder über Ihre Genossenschaft anmelden:',
  logInWith: (l) => `Mit ${l} anmelden`,
  enterBoth: 'Geben Sie Ihre E-Mail-Adresse und Ihr Passwort ein.',
  locked: (m) => `Zu viele fehlgeschlagene Versuche. Versuchen Sie es in ${m} Minute(n) wieder.`,
  wrong: 'Die E-Mail-Adresse oder das Passwort ist falsch.',
  suspended: 'Dieses Konto ist gesperrt: es kann sich nicht anmelden. Wenden Sie sich an die Leute, die Ihre Genossenschaft betreiben.',
  allowTitle: 'Zugriff erlauben',
  allowHeading: (c) => `${c} erlauben, Ihr Konto zu nutzen?`,
  loggedInAs: 'Sie sind angemeldet als ',
  clientAddress: 'Adresse der Anwendung: ',
  asksTo: 'Sie möchte',
  actFor: (r) => `in Ihrem Namen auf ${r} handeln`,
  willReceive: 'Sie erhält',
  allow: 'Erlauben',
  deny: 'Ablehnen',
  scopes: {
    openid: 'wissen, wer Sie sind (Ihre meetplane-Konto-ID)',
    email: 'Ihre E-Mail-Adresse sehen',
    profile: 'Ihren Namen sehen',
    meetplane: 'Ihre Genossenschaft, Ihre Bereiche und Ihre Rollen sehen',
    offline_access: 'verbunden bleiben, wenn Sie sie nicht nutzen (Refresh-Tokens)',
    api: 'die meetplane-API als Sie nutzen',
  },
  claims: {
    sub: 'Ihre Konto-ID',
    email: 'Ihre E-Mail-Adresse',
    email_verified: 'ob Ihre E-Mail-Adresse bestätigt ist',
    name: 'Ihren Namen',
    given_name: 'Ihren Vornamen',
    family_name: 'Ihren Nachnamen',
    preferred_username: 'einen Benutzernamen (den Teil Ihrer E-Mail-Adresse vor dem @)',
    coop: 'Ihre Heimatgenossenschaft',
    roles: 'Ihre Rollen und wo sie gelten',
    groups: 'Ihre Genossenschaft und die Bereiche, zu denen Sie gehören',
    meetplane: 'die Bereiche, zu denen Sie gehören, und Ihre Rolle darin',
  },
  requestId: 'Anfrage-ID: ',
  logOutTitle: 'Abmelden',
  logOutHeading: 'Von meetplane abmelden?',
  endsSession: (h) => `Damit endet Ihre Anmeldesitzung bei ${h}.`,
  yesLogOut: 'Ja, abmelden',
  stayLoggedIn: 'Nein, angemeldet bleiben',
  loggedOutTitle: 'Abgemeldet',
  loggedOutHeading: 'Sie sind abgemeldet',
  loggedOutOf: (c) => `Sie haben sich von ${c} und von meetplane abgemeldet.`,
  sessionEnded: 'Ihre meetplane-Sitzung ist beendet.',
  deviceTitle: 'Gerät verbinden',
  deviceHint: 'Geben Sie den Code ein, den Ihr Gerät (zum Beispiel der Befehl meetplane) anzeigt.',
  code: 'Code',
  continue: 'Weiter',
  cancel: 'Abbrechen',
  codeInvalid: 'Dieser Code ist ungültig oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät und versuchen Sie es erneut.',
  codeCancelled: 'Die Anmeldung wurde abgebrochen.',
  codeFailed: 'Etwas ist schiefgegangen; beginnen Sie auf Ihrem Gerät neu.',
  yourDevice: 'Ihr Gerät',
  confirmDeviceTitle: 'Gerät bestätigen',
  connectHeading: (c) => `${c} verbinden?`,
  checkCode: 'Prüfen Sie, dass Ihr Gerät den Code ',
  onlyIfYou: ' anzeigt. Fahren Sie nur fort, wenn Sie das selbst begonnen haben.',
  deviceDoneTitle: 'Gerät verbunden',
  deviceDone: (c) => `${c} ist jetzt angemeldet. Sie können diese Seite schließen und zu Ihrem Gerät zurückkehren.`,
  passwordSetTitle: 'Passwort gesetzt',
  passwordSetHeading: 'Ihr Passwort ist gesetzt',
  canLogIn: (e) => `Sie können sich jetzt mit ${e} bei den Diensten Ihrer Genossenschaft anmelden.`,
  setPasswordTitle: 'Passwort festlegen',
  welcome: (n) => `Willkommen, ${n}`,
  choosePassword: (e) => `Wählen Sie ein Passwort für ${e}. Nehmen Sie mindestens 12 Zeichen; ein paar Wörter, die nichts miteinander zu tun haben, sind gut.`,
  newPassword: 'Neues Passwort',
  repeatPassword: 'Passwort wiederholen',
  setPassword: 'Passwort festlegen',
  notSame: 'Die beiden Passwörter stimmen nicht überein.',
  passwordNot: 'Das Passwort ist nicht annehmbar.',
  tooShort: (n) => `Das Passwort muss mindestens ${n} Zeichen lang sein.`,
  tooLong: (n) => `Das Passwort darf höchstens ${n} Zeichen lang sein.`,
  hasEmailName: 'Das Passwort darf nicht den Namen Ihrer E-Mail-Adresse enthalten.',
  expired: { title: 'Anmeldung abgelaufen', message: 'Diese Anmeldeseite ist nicht mehr gültig (sie ist abgelaufen oder wurde schon benutzt). Gehen Sie zurück zur Anwendung und beginnen Sie neu.' },
  refused: { title: 'Anfrage abgelehnt', message: 'Das Formular kam nicht von dieser Website. Laden Sie die Seite neu und versuchen Sie es noch einmal.' },
  refusedLogin: { title: 'Anfrage abgelehnt', message: 'Das Formular kam nicht von dieser Website. Laden Sie die Anmeldeseite neu und versuchen Sie es noch einmal.' },
  unsupported: { title: 'Schritt nicht unterstützt', message: 'Dieser Anmeldeschritt wird nicht unterstützt.' },
  invitationGone: { title: 'Einladung ungültig', message: 'Dieser Einladungslink ist ungültig: er ist abgelaufen oder wurde schon benutzt. Bitten Sie die Verwaltung Ihrer Genossenschaft um einen neuen.' },
  unknownUpstream: { title: 'Unbekannter Genossenschaftsanbieter', message: 'Diese Anmeldung über die Genossenschaft ist nicht verfügbar. Gehen Sie zurück und wählen Sie einen anderen Weg.' },
  upstreamGone: { title: 'Unbekannter Genossenschaftsanbieter', message: 'Diese Anmeldung über die Genossenschaft ist nicht mehr verfügbar.' },
  upstreamNotTrusted: (n) => ({ title: 'Instanz nicht vertrauenswürdig', message: `Diese Instanz vertraut ${n} nicht mehr (kein vertrauenswürdiger Partner und in keiner anerkannten Föderation). Melden Sie sich mit Ihrem Passwort an oder fragen Sie die Betreiber dieser Instanz.` }),
  upstreamUnreachable: (n) => ({ title: 'Genossenschaftsanbieter nicht erreichbar', message: `Der Anmeldedienst von ${n} antwortet nicht. Versuchen Sie es später noch einmal oder melden Sie sich mit Ihrem Passwort an.` }),
  upstreamExpired: { title: 'Anmeldung abgelaufen', message: 'Diese Anmeldung über die Genossenschaft ist nicht mehr gültig. Gehen Sie zurück zur Anwendung und beginnen Sie neu.' },
  upstreamRefused: (why) => ({ title: 'Anmeldung abgelehnt', message: why }),
  upstreamRefusals: {
    linkGone: 'Dieses Konto kann über diese Genossenschaft nicht mehr benutzt werden. Melden Sie sich mit Ihrem Passwort an.',
    noEmail: 'Ihre Genossenschaft hat keine E-Mail-Adresse übermittelt, daher kann kein Konto angelegt werden.',
    unverified: 'Ein Konto mit dieser E-Mail-Adresse existiert, aber Ihre Genossenschaft hat nicht bestätigt, dass die Adresse geprüft ist.',
    cannotLink: 'Ein Konto mit dieser E-Mail-Adresse existiert und kann über diese Genossenschaft nicht benutzt werden. Melden Sie sich mit Ihrem Passwort an.',
    suspended: 'Dieses Konto ist gesperrt: es kann sich nicht anmelden. Wenden Sie sich an die Leute, die Ihre Genossenschaft betreiben.',
    untrustedKey: 'Die Antwort der anderen Instanz ist nicht mit einem Schlüssel signiert, für den die Föderation bürgt, und kann daher nicht angenommen werden. Melden Sie sich mit Ihrem Passwort an oder fragen Sie die Betreiber dieser Instanz.',
  },
  upstreamFailed: (n) => ({ title: 'Anmeldung über die Genossenschaft fehlgeschlagen', message: `Die Anmeldung über ${n} ist nicht gelungen. Versuchen Sie es noch einmal oder melden Sie sich mit Ihrem Passwort an.` }),
  tooManyCodes: (m) => ({ title: 'Zu viele Versuche', message: `Aus Ihrem Netz wurden zu viele falsche Codes eingegeben. Versuchen Sie es in ${m} Minute(n) wieder.` }),
  signOnProblem: 'Anmeldeproblem',
  badRequest: (d) => `Die Anwendung hat eine Anfrage gesendet, die meetplane nicht annehmen kann (${d}).`,
  sessionGone: 'Ihre Anmeldung hat zu lange gedauert oder ist schon abgeschlossen. Gehen Sie zurück zur Anwendung und beginnen Sie neu.',
  couldNotComplete: (d) => `Die Anmeldung konnte nicht abgeschlossen werden (${d}).`,
};

export const SIGN_ON_TEXT: Record<Lang, SignOnText> = { en, fr, de };
