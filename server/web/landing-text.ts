// The words of the start page (GET /) in English, French and German, in the
// signed-in member's language or the browser's. Commands, endpoints and
// product names stay as they are.
import type { Lang } from './i18n.js';

export interface LandingText {
  title: (host: string) => string;
  about: string;
  noAdmin: [string, string];
  members: string;
  signedInAs: (name: string, email: string) => string;
  yourPage: string;
  signIn: string;
  noSso: string;
  pageHint: [string, string];
  yourPageLink: string;
  auditors: string;
  auditLog: string;
  auditHint: [string, string];
  apiDescription: string;
  apiHint: [string, string];
  discovery: string;
  discoveryHint: string;
  health: string;
  and: string;
  readiness: string;
}

const en: LandingText = {
  title: (h) => `meetplane at ${h}`,
  about:
    "A control plane for co-operatives that host BigBlueButton: their clusters, the tenancies of their members, one sign-on for every co-op's front end, roles delegated between co-ops, and transfers of a tenancy from one co-op to another under data-protection rules, all recorded in an audit log anyone can verify.",
  noAdmin: ["This instance has no platform admin yet. The server printed a one-time setup link in its log: open it in a browser on the server's machine, or run ", ' there.'],
  members: 'Members',
  signedInAs: (n, e) => `Signed in as ${n} (${e}). `,
  yourPage: 'Your tenancies, transfers and data',
  signIn: 'Sign in',
  noSso: 'Sign-on is not enabled on this instance.',
  pageHint: ['Your tenancies, any pending transfer of them, and your data are on ', '.'],
  yourPageLink: 'your page',
  auditors: 'Auditors and operators',
  auditLog: 'The audit log',
  auditHint: [': every change, with proofs against signed checkpoints (', ' checks them without trusting this server).'],
  apiDescription: 'The REST API description',
  apiHint: [' (OpenAPI 3.1); the ', ' CLI is a client of it.'],
  discovery: 'Sign-on discovery',
  discoveryHint: ' for front ends (OpenID Connect).',
  health: 'Health',
  and: ' and ',
  readiness: 'readiness',
};

const fr: LandingText = {
  title: (h) => `meetplane sur ${h}`,
  about:
    "Un plan de contrôle pour les coopératives qui hébergent BigBlueButton : leurs grappes de serveurs, les espaces de leurs membres, une authentification unique pour les applications de chaque coopérative, des rôles délégués entre coopératives et des transferts d'un espace d'une coopérative à une autre selon les règles de protection des données, le tout consigné dans un journal d'audit que chacun peut vérifier.",
  noAdmin: ["Cette instance n'a pas encore d'administrateur de la plateforme. Le serveur a écrit un lien de configuration à usage unique dans son journal : ouvrez-le dans un navigateur sur la machine du serveur, ou lancez ", ' sur celle-ci.'],
  members: 'Membres',
  signedInAs: (n, e) => `Connecté en tant que ${n} (${e}). `,
  yourPage: 'Vos espaces, transferts et données',
  signIn: 'Se connecter',
  noSso: "L'authentification n'est pas activée sur cette instance.",
  pageHint: ['Vos espaces, tout transfert en attente les concernant et vos données sont sur ', '.'],
  yourPageLink: 'votre page',
  auditors: 'Auditeurs et exploitants',
  auditLog: "Le journal d'audit",
  auditHint: [' : chaque modification, avec des preuves par rapport à des points de contrôle signés (', ' les vérifie sans faire confiance à ce serveur).'],
  apiDescription: "La description de l'API REST",
  apiHint: [' (OpenAPI 3.1); la commande ', ' en est un client.'],
  discovery: "Découverte de l'authentification",
  discoveryHint: ' pour les applications (OpenID Connect).',
  health: 'État',
  and: ' et ',
  readiness: 'disponibilité',
};

const de: LandingText = {
  title: (h) => `meetplane auf ${h}`,
  about:
    'Eine Steuerzentrale für Genossenschaften, die BigBlueButton betreiben: ihre Cluster, die Bereiche ihrer Mitglieder, eine Anmeldung für die Anwendungen jeder Genossenschaft, zwischen Genossenschaften übertragene Rollen und Umzüge eines Bereichs von einer Genossenschaft zur anderen nach Datenschutzregeln, alles in einem Prüfprotokoll festgehalten, das jeder nachprüfen kann.',
  noAdmin: ['Diese Instanz hat noch keine Plattformverwaltung. Der Server hat einen einmaligen Einrichtungslink in sein Protokoll geschrieben: öffnen Sie ihn in einem Browser auf dem Rechner des Servers, oder führen Sie dort ', ' aus.'],
  members: 'Mitglieder',
  signedInAs: (n, e) => `Angemeldet als ${n} (${e}). `,
  yourPage: 'Ihre Bereiche, Umzüge und Daten',
  signIn: 'Anmelden',
  noSso: 'Die Anmeldung ist auf dieser Instanz nicht eingeschaltet.',
  pageHint: ['Ihre Bereiche, ein anstehender Umzug und Ihre Daten stehen auf ', '.'],
  yourPageLink: 'Ihrer Seite',
  auditors: 'Prüfer und Betreiber',
  auditLog: 'Das Prüfprotokoll',
  auditHint: [': jede Änderung, mit Nachweisen gegen signierte Prüfpunkte (', ' prüft sie, ohne diesem Server zu vertrauen).'],
  apiDescription: 'Die Beschreibung der REST-API',
  apiHint: [' (OpenAPI 3.1); der Befehl ', ' ist ein Client davon.'],
  discovery: 'Anmelde-Discovery',
  discoveryHint: ' für Anwendungen (OpenID Connect).',
  health: 'Zustand',
  and: ' und ',
  readiness: 'Bereitschaft',
};

export const LANDING_TEXT: Record<Lang, LandingText> = { en, fr, de };
