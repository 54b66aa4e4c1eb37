/*
 * ss_node.h - in a Node.js process, have Node load the shim's module
 * (spanshim-node.js), which names each outgoing call's inbound request.
 */
#ifndef SS_NODE_H
#define SS_NODE_H

/* From the constructor, before the program reads its environment. */
void ss_node_setup(void);

#endif
