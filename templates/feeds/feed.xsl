<?xml version="1.0" encoding="UTF-8"?>
<!--
  Browser view of the RSS 2.0 and Atom 1.0 feeds written by publisher. A browser that
  opens a feed applies this stylesheet and shows a readable page; feed readers ignore it.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="lang" select="rss/channel/language | atom:feed/@xml:lang"/>
    <html lang="{$lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <style>
          body { font: 1rem/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; background: #fff; }
          .about { background: #fff8e0; border: 1px solid #f0d890; border-radius: .5rem; padding: .75rem 1rem; }
          .about code { word-break: break-all; }
          h1 { font-size: 1.6rem; margin-bottom: .25rem; }
          h2 { font-size: 1.15rem; margin: 0; }
          article { border-bottom: 1px solid #ddd; padding: 1rem 0; }
          time { color: #666; font-size: .9rem; }
          a { color: #0b5cad; }
          @media (prefers-color-scheme: dark) {
            body { color: #ddd; background: #16181d; }
            .about { background: #2a2617; border-color: #5c5023; }
            a { color: #7fb3ff; }
            time { color: #aaa; }
            article { border-color: #333; }
          }
        </style>
      </head>
      <body>
        <p class="about">
          This is a web feed. Copy its address into a feed reader to follow
          <strong><xsl:value-of select="$title"/></strong>:
          <code><xsl:value-of select="rss/channel/atom:link[@rel='self']/@href | atom:feed/atom:link[@rel='self']/@href"/></code>
        </p>
        <xsl:apply-templates select="rss/channel | atom:feed"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="channel">
    <header>
      <h1><a href="{link}"><xsl:value-of select="title"/></a></h1>
      <p><xsl:value-of select="description"/></p>
    </header>
    <xsl:for-each select="item">
      <article>
        <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
        <time><xsl:value-of select="pubDate"/></time>
        <p><xsl:value-of select="description"/></p>
      </article>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="atom:feed">
    <header>
      <h1><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h1>
      <p><xsl:value-of select="atom:subtitle"/></p>
    </header>
    <xsl:for-each select="atom:entry">
      <article>
        <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
        <time datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time>
        <p><xsl:value-of select="atom:summary"/></p>
      </article>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
