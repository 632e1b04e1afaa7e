export const PLUGIN_KIND = 'powerdns';
