export const PLUGIN_KIND = 'bind';
