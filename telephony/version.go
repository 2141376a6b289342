package telephony

// Version is the version of this module. The default User-Agent carries it
// ("switchboard-go/" + Version), and CHANGELOG.md lists what each version
// changed. While it starts with 0 the public API may still change; see the
// README's "Versions and stability".
const Version = "0.2.0-dev"
