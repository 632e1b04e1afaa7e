export const PLUGIN_KIND = 'knot';
