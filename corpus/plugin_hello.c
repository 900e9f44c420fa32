/* plugin_hello: the plugin that legacy_plugin_host loads at run time. It is
 * never a DT_NEEDED of anything, so a closure built from ELF headers alone
 * misses it; decant must find it through the dlopen() string in the host. */
const char *plugin_hello(void);

const char *plugin_hello(void) {
  return "hello from plugin";
}
