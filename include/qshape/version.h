/*
 * qshape-milter version, shared by every program.
 */
#ifndef QSHAPE_VERSION_H
#define QSHAPE_VERSION_H

#define QSHAPE_VERSION "0.1.0"

#endif
